#!/usr/bin/env bash
# Session 32, call 3: the persistent chain of decode GEMVs (native/test/chain_bench.cu, built here for sm_90a against
# the staged library, carried gzipped in .device/chain) against one launch per GEMV, 32 layers of Llama-3-8B.
# (call 3: the jobs' fields in shared memory, the next tensor map prefetched a job ahead, and each shape's chain alone)
. scripts/device/call-prelude.sh 300
chain default
chain default-2
echo "done, $(left) s of $budget left" | tee -a "$S"
