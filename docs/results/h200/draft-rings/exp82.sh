#!/usr/bin/env bash
# Session 15, call 3: the final rule (32-token tiles from M = 17, one CTA per SM where the grid gives each SM at
# most one; 64- and 128-token tiles on the rings of before). qspec_test in full and its draft cases with the
# warpgroup kernel everywhere; the full kernel benchmark; end to end at batch 24 and 32, this library against
# the rule of before (QSPEC_WGMMA_DRAFT_MIN_M=32 QSPEC_WGMMA_BN=64: the same kernels at these batches),
# interleaved, two runs each. Results are packed after every phase.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; tar czf $OUT/r.tgz -C $OUT r; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in ":" "QSPEC_WGMMA_DRAFT=all:draft"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}; o=${o// /_}
  env $e timeout 240 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
done
T
wait
timeout 150 /tmp/qb > $OUT/r/native-bench.txt 2>&1; echo "== full bench rc=$?"
QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=17,20,24,28,32 QSPEC_BENCH_SHAPES=down,gate/up,lm_head,gate+up timeout 60 /tmp/qb > $OUT/r/bench-m17-32.txt 2>&1
grep -E '^\| ' $OUT/r/bench-m17-32.txt | grep -v -- '---' | grep -v TFLOPS | cut -d'|' -f2,4,5,8 | tr '\n' ';'; echo
QSPEC_WGMMA_DRAFT_MIN_M=32 QSPEC_WGMMA_BN=64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=17,20,24,28,32 QSPEC_BENCH_SHAPES=down,gate/up,lm_head,gate+up timeout 60 /tmp/qb > $OUT/r/bench-m17-32-before.txt 2>&1
grep -E '^\| ' $OUT/r/bench-m17-32-before.txt | grep -v -- '---' | grep -v TFLOPS | cut -d'|' -f2,4,5,8 | tr '\n' ';'; echo
T
for v in before new before new; do
  env="QSPEC_WGMMA_DRAFT_MIN_M=17"; [ $v = before ] && env="QSPEC_WGMMA_DRAFT_MIN_M=32 QSPEC_WGMMA_BN=64"
  n=e2e-$v; [ -e $OUT/r/$n.txt ] && n=$n-2
  env $env OUT=$OUT/r/$n timeout 80 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 24,32 --max-tokens 64 --modes w4a8,qspec-a8 --bandwidth-gbps 4645 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -6
  T
done
