#!/usr/bin/env bash
# Session 14, call 1. The draft's bulk kernel with two token tiles at M = 9-16 (the default of this library;
# QSPEC_BULK_DRAFT_M16=0 gives the warp-split kernel of before), and W4A16's bulk kernel with four row tiles and two
# token tiles at M = 9-16 on matrices wider than 8192 rows (QSPEC_BULK_WIDE_ROWS=64; the default takes two row tiles
# at M = 9-12 and the cluster kernel at 13-16). qspec_test in full, its bulk and draft cases on a ring of two, with
# walks of 3 and with both wide variants; the quick bench at M = 9, 12, 16, interleaved (old / new / wide), two runs
# each; end to end at batch 16, the same three, two runs each.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in ":" "QSPEC_BULK_RING=2:bulk" "QSPEC_BULK_RING=2:draft" "QSPEC_BULK_WALK=3:bulk" \
         "QSPEC_BULK_WIDE_ROWS=64:bulk" "QSPEC_BULK_WIDE_ROWS=64 QSPEC_BULK_M16=all:bulk" \
         "QSPEC_BULK_DRAFT_M16=all QSPEC_BULK_GEMV=all:draft" "QSPEC_BULK_DRAFT_M16=0:draft"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}; o=${o// /_}
  env $e timeout 200 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
done
T
wait
S="q/o,k/v,gate/up,down,lm_head,q+k+v,gate+up"
for v in old new wide old new wide; do
  env="QSPEC_BULK_DRAFT_M16=1"; [ $v = old ] && env="QSPEC_BULK_DRAFT_M16=0"; [ $v = wide ] && env="QSPEC_BULK_WIDE_ROWS=64"
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  env $env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=8,9,12,16 QSPEC_BENCH_SHAPES=$S timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| ' $f | grep -v -- '---' | cut -d'|' -f2,4,5,6,8 | tr '\n' ';'; echo
done
T
for v in old new wide old new wide; do
  env="QSPEC_BULK_DRAFT_M16=1"; [ $v = old ] && env="QSPEC_BULK_DRAFT_M16=0"; [ $v = wide ] && env="QSPEC_BULK_WIDE_ROWS=64"
  n=e2e-$v; [ -d $OUT/r/$n ] && n=$n-2
  env $env OUT=$OUT/r/$n timeout 120 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 16 --max-tokens 64 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 4645 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -3
  T
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
