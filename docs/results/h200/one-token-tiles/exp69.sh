#!/usr/bin/env bash
# Session 13, call 1: two row tiles per CTA at one token (QSPEC_BULK_ROWS1=32: the two-row-tile bulk kernels,
# walking row tiles where one CTA per tile takes more than a wave) against one (the default). Kernel tests with
# it (all, and the bulk cases with forced walks); the quick bench at M = 1 and 2, interleaved, three runs each,
# with the stacked shapes the model runs (q+k+v, gate+up); W4A16 at M = 9-16 with the two-token-tile bulk kernel
# on every N (QSPEC_BULK_M16=all) against the rule; the full bench of the stacked shapes.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in "QSPEC_BULK_ROWS1=32:" "QSPEC_BULK_ROWS1=32 QSPEC_BULK_WALK=3:bulk" "QSPEC_BULK_ROWS1=32 QSPEC_BULK_WALK=2:bulk"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}; o=${o// /_}
  env $e timeout 200 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
  T
done
wait
S="q/o,k/v,gate/up,down,lm_head,q+k+v,gate+up"
for v in one two one two one two; do
  env=""; [ $v = two ] && env="QSPEC_BULK_ROWS1=32"
  f=$OUT/r/bench-m1-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt; [ -e $f ] && f=${f%-2.txt}-3.txt
  env $env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2 QSPEC_BENCH_SHAPES=$S timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| ' $f | grep -v -- '---' | cut -d'|' -f2,4,5,6,8,9,10,12 | tr '\n' ';'; echo
done
T
for v in 1 all 1 all; do
  f=$OUT/r/bench-m16-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  QSPEC_BULK_M16=$v QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=9,12,16 QSPEC_BENCH_SHAPES=gate/up,down,lm_head,gate+up timeout 60 /tmp/qb > $f 2>&1
  echo "== bench m16 $v rc=$?"; grep -E '^\| ' $f | grep -v -- '---' | cut -d'|' -f2,4,5,6,7,12 | tr '\n' ';'; echo
done
T
QSPEC_BENCH_SHAPES=q+k+v,gate+up timeout 120 /tmp/qb > $OUT/r/bench-stacked-full.txt 2>&1
echo "full stacked rc=$?"; grep -E '^\| ' $OUT/r/bench-stacked-full.txt | cut -d'|' -f2,4,5,6,7,8,9,10,12 | tr '\n' ';'; echo
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
