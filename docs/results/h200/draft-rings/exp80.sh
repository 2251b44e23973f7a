#!/usr/bin/env bash
# Session 15, call 1. The draft's warpgroup kernel with separate rings: packed weights (free once unpacked, so
# copied RS steps ahead of the unpacking), activations (BS) and unpacked weights (AS), and 32-token tiles at
# M <= 32. Builds: deep (one CTA per SM: 64 tokens 3/6/10, 32 tokens 3/8/10), two (two CTAs per SM: 2/4/4,
# 2/4/6), old (the rings of before: 3/3/3 at two CTAs per SM, 4/4/4 at 128 tokens). qspec_test's draft cases with
# the kernel everywhere (QSPEC_WGMMA_DRAFT=all) in each build; the quick bench at M = 24-256, interleaved, two runs.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; tar czf $OUT/r.tgz -C $OUT r; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in ":draft" "QSPEC_WGMMA_DRAFT=all:draft" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_DRAFT_RINGS=two:draft" \
         "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_DRAFT_RINGS=deep:draft" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=32:draft" \
         "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_DRAFT_RINGS=old:draft"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}; o=${o// /_}
  env $e timeout 100 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
done
T
wait
S="q/o,k/v,down,gate/up,lm_head,q+k+v,gate+up"
for v in old new deep two n64 split4 old new deep two n64 split4; do
  case $v in old) env="QSPEC_WGMMA_DRAFT_RINGS=old";; new) env="QSPEC_WGMMA_DRAFT_MIN_M=17";;
    deep) env="QSPEC_WGMMA_DRAFT_MIN_M=17 QSPEC_WGMMA_DRAFT_RINGS=deep";; two) env="QSPEC_WGMMA_DRAFT_MIN_M=17 QSPEC_WGMMA_DRAFT_RINGS=two";;
    n64) env="QSPEC_WGMMA_DRAFT_MIN_M=17 QSPEC_WGMMA_BN=64";; split4) env="QSPEC_WGMMA_DRAFT_MIN_M=17 QSPEC_WGMMA_SPLIT=4";; esac
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  env $env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=24,32,48,64,128,256 QSPEC_BENCH_SHAPES=$S timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| ' $f | grep -v -- '---' | grep -v TFLOPS | cut -d'|' -f2,4,8 | tr '\n' ';'; echo
done
T
