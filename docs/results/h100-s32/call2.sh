#!/usr/bin/env bash
# Session 32, call 2: the persistent chain of decode GEMVs (native/test/chain_bench.cu, built here for sm_90a against
# the staged library, carried gzipped in .device/chain) against one launch per GEMV, 32 layers of Llama-3-8B.
# (call 2: the chain kernel loads its scales a chunk ahead, as the bulk GEMV does, and has a build of three CTAs per SM)
. scripts/device/call-prelude.sh 300
chain default
chain per-sm3 CHAIN_PER_SM=3
chain per-sm1 CHAIN_PER_SM=1
chain default-2
echo "done, $(left) s of $budget left" | tee -a "$S"
