#!/usr/bin/env bash
# Session 14, call 4: the final rule (four row tiles on wide matrices from M = 2 for W4A16, from one token for the
# draft; call 3). qspec_test's bulk and draft cases; the quick bench of the wide shapes at M = 1-2; end to end at
# batch 1 and 8, main's kernels (QSPEC_BULK_DRAFT_M16=0 QSPEC_BULK_WIDE_ROWS=32) against this library, interleaved,
# two runs each. Results are packed after every phase.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; tar czf $OUT/r.tgz -C $OUT r; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for f in bulk draft; do
  o=$OUT/r/test-$f.txt; timeout 90 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
done
T
wait
QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2 QSPEC_BENCH_SHAPES=gate/up,lm_head,gate+up timeout 30 /tmp/qb > $OUT/r/bench.txt 2>&1
grep -E '^\| ' $OUT/r/bench.txt | grep -v -- '---' | grep -v TFLOPS | cut -d'|' -f2,4,5,8 | tr '\n' ';'; echo
T
for v in main new main new; do
  env="QSPEC_BULK_WIDE_ROWS=64"; [ $v = main ] && env="QSPEC_BULK_DRAFT_M16=0 QSPEC_BULK_WIDE_ROWS=32"
  n=e2e-$v; [ -e $OUT/r/$n.txt ] && n=$n-2
  env $env OUT=$OUT/r/$n timeout 60 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8 --max-tokens 64 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 4645 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -6
  T
done
