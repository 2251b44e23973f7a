#!/usr/bin/env bash
# Session 14, call 3: this session's library (four row tiles per CTA on matrices wider than 8192 rows at M = 5-16,
# a ring of 2 and walks at M = 5-8, a ring of 3 at M = 9-16; the draft's two-token-tile kernel at M = 9-16).
# qspec_test in full, its bulk cases with four row tiles from one token (QSPEC_BULK_WIDE_M=1); the quick bench of the
# wide shapes at M = 1-4 with four row tiles from M = 1 against the default (from 5), two runs each; end to end at
# batch 2 and 8, main's kernels (QSPEC_BULK_DRAFT_M16=0 QSPEC_BULK_WIDE_ROWS=32 QSPEC_BULK_WIDE_M=9) against this
# library; the full qspec_bench (the KERNELS.md table). Results are packed after every phase.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; tar czf $OUT/r.tgz -C $OUT r; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in ":" "QSPEC_BULK_WIDE_M=1:bulk"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}; o=${o// /_}
  env $e timeout 220 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
done
T
wait
for v in 5 1 5 1; do
  f=$OUT/r/bench-widem$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  QSPEC_BULK_WIDE_M=$v QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2,3,4 QSPEC_BENCH_SHAPES=gate/up,lm_head,gate+up timeout 40 /tmp/qb > $f 2>&1
  echo "== bench widem$v rc=$?"; grep -E '^\| ' $f | grep -v -- '---' | grep -v TFLOPS | cut -d'|' -f2,4,5,8 | tr '\n' ';'; echo
done
T
for v in main new; do
  env="QSPEC_BULK_WIDE_M=5"; [ $v = main ] && env="QSPEC_BULK_DRAFT_M16=0 QSPEC_BULK_WIDE_ROWS=32 QSPEC_BULK_WIDE_M=9"
  env $env OUT=$OUT/r/e2e-$v timeout 100 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 2,8 --max-tokens 64 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 4645 -- > $OUT/r/e2e-$v.txt 2>&1
  echo "== e2e-$v rc=$?"; grep -E "^(w4|qspec)" $OUT/r/e2e-$v.txt | head -6
  T
done
timeout 150 /tmp/qb > $OUT/r/native-bench.txt 2>&1
echo "qspec_bench rc=$?"; grep -E "^HBM|^roofline: HBM" $OUT/r/native-bench.txt
T
