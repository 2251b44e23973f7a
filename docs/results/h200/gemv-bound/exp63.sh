#!/usr/bin/env bash
# Session 12, call 3: the bulk GEMVs that walk several row tiles per CTA where one CTA per tile takes more than
# a wave (this tree), with 3-D boxes. Kernel tests by default, with QSPEC_BULK_WALK=3 (three tiles per CTA
# wherever the chunks allow) and =0; then the quick bench at M = 1-16, interleaved: main before this session
# (.device/abl/old), this tree with the walk off (QSPEC_BULK_WALK=0: the 3-D boxes alone), this tree, and the
# walking builds at 3 CTAs per SM (.device/abl/walk3; no spills).
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64
for a in "QSPEC_BULK_WALK=3:bulk" "QSPEC_BULK_WALK=2:bulk" "QSPEC_BULK_WALK=0:bulk" ":" "QSPEC_BULK_WALK=3:"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}
  env $e timeout 200 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
  T
done
wait
for v in old walk0 walk walk3 old walk0 walk walk3; do
  lib=$g/native; env=""
  [ $v = old ] && lib=$(pwd)/.device/abl/old
  [ $v = walk3 ] && lib=$(pwd)/.device/abl/walk3
  [ $v = walk0 ] && env="QSPEC_BULK_WALK=0"
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  env $env LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2,4,8 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,6,8,9,10,12 | tr '\n' ';'; echo
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
