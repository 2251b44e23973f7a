#!/usr/bin/env bash
# Session 12, call 2: the TMA's streaming rate by box shape and grid (native/test/tma_rate.cu), and the bulk GEMVs
# with one 3-D box per chunk instead of eight 2-D boxes (.device/abl/box3d): kernel tests, then the quick bench
# at M = 1-16 against main, interleaved.
g=$(pwd)/.device/gpu; b3=$(pwd)/.device/abl/box3d
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
nvcc -O2 -std=c++17 -Inative/include -Inative/src -gencode=arch=compute_90a,code=sm_90a native/test/tma_rate.cu -o /tmp/tma_rate
timeout 120 /tmp/tma_rate > $OUT/r/tma-rate.txt 2>&1; echo "tma_rate rc=$?"
cut -d, -f2- $OUT/r/tma-rate.txt | column -t -s, | head -80
T
LD_LIBRARY_PATH=$b3:/usr/local/cuda/lib64 timeout 200 $b3/qspec_test > $OUT/r/test-box3d.txt 2>&1
echo "box3d tests rc=$? $(grep -c ^PASS $OUT/r/test-box3d.txt) PASS $(grep -c ^FAIL $OUT/r/test-box3d.txt) FAIL"; grep -v ^PASS $OUT/r/test-box3d.txt | head -8
T
wait
for v in main box3d main box3d; do
  lib=$g/native; [ $v != main ] && lib=$b3
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2,4,8,16 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,6,7,8 | tr '\n' ';'; echo
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
