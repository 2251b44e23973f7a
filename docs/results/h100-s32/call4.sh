#!/usr/bin/env bash
# Session 32, call 4: the persistent chain of decode GEMVs (native/test/chain_bench.cu, built here for sm_90a against
# the staged library, carried gzipped in .device/chain) against one launch per GEMV, 32 layers of Llama-3-8B.
# (call 4: the variants CHAIN_V=1 (one fence per job done), 2 (the first tensor map from the parameter), 3 (both), and where the CTAs ran)
. scripts/device/call-prelude.sh 300
chain default
chain v1 CHAIN_V=1
chain v2 CHAIN_V=2
chain v3 CHAIN_V=3
chain default-2
echo "done, $(left) s of $budget left" | tee -a "$S"
