#!/usr/bin/env bash
# Session 14, call 2. Four row tiles per CTA (64 rows, one CTA per SM) on matrices wider than 8192 rows: W4A16's
# and the draft's two-token-tile bulk kernels at M = 9-16 (the default of this library, a ring of 3; QSPEC_BULK_RING=2
# a ring of 2; QSPEC_BULK_WIDE_ROWS=32 two row tiles there: the draft's kernel of call 1, and for W4A16 the rule of
# before, two row tiles at M = 9-12 and the cluster kernel at 13-16), and the one-token-tile kernels at M = 5-8
# (QSPEC_BULK_WIDE_M=5, rings of 3 or 2). The draft's two-token-tile kernel keeps two row tiles on 4096 rows and no
# longer runs on 4097-8192 (call 1). qspec_test's bulk and draft cases with each; the quick bench at M = 5, 8, 9, 12,
# 16, interleaved, two runs each; end to end at batch 4 and 16, main's kernels (QSPEC_BULK_DRAFT_M16=0
# QSPEC_BULK_WIDE_ROWS=32) against this library's default, two runs each.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in ":bulk" ":draft" "QSPEC_BULK_RING=2:bulk" "QSPEC_BULK_WIDE_M=5:bulk" "QSPEC_BULK_WIDE_M=5 QSPEC_BULK_RING=2:bulk" \
         "QSPEC_BULK_WIDE_M=5 QSPEC_BULK_WALK=3 QSPEC_BULK_RING=2:bulk" "QSPEC_BULK_WIDE_ROWS=32:bulk"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}; o=${o// /_}
  env $e timeout 200 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
done
T
wait
S="q/o,down,gate/up,lm_head,q+k+v,gate+up"
for v in base new ring2 wm5 wm5r2 base new ring2 wm5 wm5r2; do
  case $v in base) env="QSPEC_BULK_WIDE_ROWS=32";; new) env="QSPEC_BULK_WIDE_ROWS=64";; ring2) env="QSPEC_BULK_RING=2";;
    wm5) env="QSPEC_BULK_WIDE_M=5";; wm5r2) env="QSPEC_BULK_WIDE_M=5 QSPEC_BULK_RING=2";; esac
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  env $env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=5,8,9,12,16 QSPEC_BENCH_SHAPES=$S timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| ' $f | grep -v -- '---' | grep -v TFLOPS | cut -d'|' -f2,4,5,8 | tr '\n' ';'; echo
done
T
for v in main new main new; do
  env="QSPEC_BULK_WIDE_ROWS=64"; [ $v = main ] && env="QSPEC_BULK_DRAFT_M16=0 QSPEC_BULK_WIDE_ROWS=32"
  n=e2e-$v; [ -d $OUT/r/$n ] && n=$n-2
  env $env OUT=$OUT/r/$n timeout 150 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 4,16 --max-tokens 64 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 4645 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -6
  T
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
