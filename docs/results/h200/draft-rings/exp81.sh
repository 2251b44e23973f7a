#!/usr/bin/env bash
# Session 15, call 2. Call 1's deeper rings did not help: the packed weights came as 128 rows x 64 bytes per copy
# (rows 2 KB or more apart). Now they come in chunks of CS steps (128 rows x 64 CS bytes, one 3-D copy): builds
# deep (64 tokens, one CTA per SM: chunks of 8 steps, 2 of them), mid (chunks of 4, 3 of them), two (two CTAs per
# SM: chunks of 2, 3 of them), 32-token tiles at M <= 32 (chunks of 8 / 4), 128-token tiles (chunks of 8);
# old = the rings of before (chunks of one step). qspec_test's draft cases with the kernel everywhere in each
# build; the quick bench at M = 24-256, interleaved, two runs.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; tar czf $OUT/r.tgz -C $OUT r; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in "QSPEC_WGMMA_DRAFT=all:draft" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_DRAFT_RINGS=deep:draft" \
         "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_DRAFT_RINGS=mid:draft" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=32:draft"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}; o=${o// /_}
  env $e timeout 100 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
done
T
wait
S="q/o,k/v,down,gate/up,lm_head,q+k+v,gate+up"
for v in old new mid deep old new mid deep; do
  case $v in old) env="QSPEC_WGMMA_DRAFT_RINGS=old";; new) env="QSPEC_WGMMA_DRAFT_MIN_M=17";;
    deep) env="QSPEC_WGMMA_DRAFT_MIN_M=17 QSPEC_WGMMA_DRAFT_RINGS=deep";; mid) env="QSPEC_WGMMA_DRAFT_MIN_M=17 QSPEC_WGMMA_DRAFT_RINGS=mid";; esac
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  env $env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=24,32,48,64,128,256 QSPEC_BENCH_SHAPES=$S timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"
done
T
