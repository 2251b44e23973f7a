#!/usr/bin/env bash
# Session 8, call 5: the full kernel benchmark (every M, cuBLAS alongside) on the final kernels of the session.
g=$(pwd)/.device/gpu
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
t0=$(date +%s)
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
echo "built t=$(( $(date +%s) - t0 ))"
timeout 130 stdbuf -oL /tmp/qb > $OUT/native-bench.txt 2>&1; echo "bench rc=$? t=$(( $(date +%s) - t0 ))"
grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/native-bench.txt | wc -l
