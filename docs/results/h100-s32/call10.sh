#!/usr/bin/env bash
# Session 32, call 10: the benchmark programs after their shared data kernels moved to native/test/bench_data.cuh:
# qspec_bench built here on the GPU machine (it links cuBLAS) and its quick table at M = 1, 8; chain_bench as committed
# (make -C native chain-bench), once.
. scripts/device/call-prelude.sh 240
build_bench; echo "build_bench rc=$?" | tee -a "$S"
MS=1,8 bench quick
chain final
echo "done, $(left) s of $budget left" | tee -a "$S"
