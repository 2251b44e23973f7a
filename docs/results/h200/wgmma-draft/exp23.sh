#!/usr/bin/env bash
# Session 7, call 7: the warpgroup draft kernel with K split across a cluster (small grids, M >= 64).
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
cp $g/native/build/qspec_test /tmp/qt
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed" &
for cfg in "" "QSPEC_WGMMA_DRAFT=all" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_SPLIT=2"; do
  n=$(echo "x $cfg" | tr ' =' '__')
  env $cfg timeout 70 /tmp/qt draft > $OUT/r/draft$n.txt 2>&1
  echo "draft [$cfg] rc=$? $(grep -c ^PASS $OUT/r/draft$n.txt) PASS $(grep -c ^FAIL $OUT/r/draft$n.txt) FAIL"; grep ^FAIL $OUT/r/draft$n.txt | head -6
  T
done
wait
for cfg in "QSPEC_WGMMA_DRAFT=1" "QSPEC_WGMMA_SPLIT=1"; do
  n=$(echo "$cfg" | tr ' =' '__')
  env $cfg QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=32,64,96,128,256 timeout 60 /tmp/qb > $OUT/r/bench-$n.txt 2>&1
  echo "bench [$cfg] rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/r/bench-$n.txt | cut -d'|' -f2,4,5,7,9
  T
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
