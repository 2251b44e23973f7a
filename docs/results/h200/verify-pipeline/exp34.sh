#!/usr/bin/env bash
# Session 9, call 4: ablations of the verify kernel (timing only; wrong results): which part of a step costs.
# 1 no token permutation by the feeder, 2 no unpacking, 4 no MMAs, 8 no fold, 3 = 1 + 2; 0 the kernel itself.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
export PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
for n in 0 1 2 4 8 3; do
  LD_LIBRARY_PATH=$(pwd)/.device/abl/a$n:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=64,256 timeout 40 /tmp/qb > $OUT/r/bench-ablate-$n.txt 2>&1
  echo "== ablate $n rc=$?"; grep -E '^\| (q/o|gate|down|lm_head)' $OUT/r/bench-ablate-$n.txt | cut -d'|' -f2,4,5 | tr '\n' ';'; echo
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
