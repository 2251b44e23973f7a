#!/usr/bin/env bash
# Session 10, call 7: the warpgroup kernels with K split at M = 32-48, where the rules do not split (timing): the
# draft's with QSPEC_WGMMA_SPLIT=8, the verify's with QSPEC_WGMMA_VERIFY=all QSPEC_WGMMA_VERIFY_SPLIT=8.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
export PATH=/usr/local/cuda/bin:$PATH LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
for v in "" "QSPEC_WGMMA_SPLIT=8" "QSPEC_WGMMA_SPLIT=4" "QSPEC_WGMMA_VERIFY=all QSPEC_WGMMA_VERIFY_SPLIT=8" ""; do
  f=$OUT/r/bench-quick-${v:-default}.txt; f=${f//=/_}; f=${f// /-}; [ -e $f ] && f=${f%.txt}-2.txt
  env $v QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=16,24,32,40,48,64 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench [$v] rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
