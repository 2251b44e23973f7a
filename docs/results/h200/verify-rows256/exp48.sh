#!/usr/bin/env bash
# Session 10, call 8: both warpgroup kernels split K from M = 33 (was 64): the full qspec_test; quick bench at
# M = 24-64 against the library before (call 5's, in .device/abl/old), twice; the draft's down at M = 32 with a
# 7-way split forced (QSPEC_WGMMA_SPLIT=7: only K = 14336 divides).
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export PATH=/usr/local/cuda/bin:$PATH LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
timeout 200 stdbuf -oL $g/native/build/qspec_test > $OUT/r/native-test.txt 2>&1; echo "qspec_test rc=$?"
f=$OUT/r/native-test.txt; echo "qspec_test: $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep ^FAIL $f | head -8; tail -1 $f
T
wait
for v in old new old new new-split7; do
  f=$OUT/r/bench-quick-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  lib=$g/native; [ $v = old ] && lib=$(pwd)/.device/abl/old
  e=""; [ $v = new-split7 ] && e=QSPEC_WGMMA_SPLIT=7
  env $e LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=24,32,40,48,56,64 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|k/v|down)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
