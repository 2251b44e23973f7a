#!/usr/bin/env bash
# Session 10, call 1: the verify kernel with 256-row CTAs (two 64-row tiles per multiplying warpgroup):
# its tests (default rule; every verify GEMM on 256-row CTAs), the quick bench of the rule against 128 and 256 rows.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in "" "QSPEC_WGMMA_VERIFY=all" "QSPEC_WGMMA_VERIFY=all QSPEC_WGMMA_VERIFY_SPLIT=1 QSPEC_WGMMA_VERIFY_ROWS=256"; do
  f=$OUT/r/verify-${a:-default}.txt; f=${f//=/_}; f=${f// /-}
  env $a timeout 60 stdbuf -oL $g/native/build/qspec_test verify > $f 2>&1
  echo "verify [$a] rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep -v ^PASS $f | head -4
done
T
wait
for v in "" "QSPEC_WGMMA_VERIFY_ROWS=128" "QSPEC_WGMMA_VERIFY_ROWS=256" ""; do
  f=$OUT/r/bench-quick-${v:-default}.txt; f=${f//=/_}; [ -e $f ] && f=${f%.txt}-2.txt
  env $v QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=32,64,128,256 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench ${v:-default} rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
