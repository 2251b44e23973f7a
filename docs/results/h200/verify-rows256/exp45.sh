#!/usr/bin/env bash
# Session 10, call 5: the full kernel benchmark on the final kernels (the KERNELS.md table); the quick bench without
# ping-pong (QSPEC_WGMMA_PINGPONG=0: both multiplying warpgroups issue as soon as a step is staged) against it.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
export PATH=/usr/local/cuda/bin:$PATH LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
for v in "" QSPEC_WGMMA_PINGPONG=0; do
  f=$OUT/r/bench-quick-${v:-default}.txt; f=${f//=/_}
  env $v QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=64,128,256 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench ${v:-default} rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
timeout 240 /tmp/qb > $OUT/r/native-bench.txt 2>&1
echo "qspec_bench rc=$?"; grep -v '^csv' $OUT/r/native-bench.txt | tail -52
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
