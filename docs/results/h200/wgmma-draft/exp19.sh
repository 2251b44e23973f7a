#!/usr/bin/env bash
# Session 7, call 3: the warpgroup draft kernel with the fold's conversion by magic number; Nsight Compute.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
cp $g/native/build/qspec_test /tmp/qt
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed" &
for cfg in "" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=128"; do
  n=$(echo "x $cfg" | tr ' =' '__')
  env $cfg timeout 60 /tmp/qt draft > $OUT/r/draft$n.txt 2>&1
  echo "draft [$cfg] rc=$? $(grep -c ^PASS $OUT/r/draft$n.txt) PASS $(grep -c ^FAIL $OUT/r/draft$n.txt) FAIL"; grep ^FAIL $OUT/r/draft$n.txt | head -6
  T
done
wait
for cfg in "QSPEC_WGMMA_BN=64" "QSPEC_WGMMA_BN=128"; do
  n=$(echo "$cfg" | tr ' =' '__')
  env $cfg QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=64,128,256 timeout 90 /tmp/qb > $OUT/r/bench-$n.txt 2>&1
  echo "bench [$cfg] rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/r/bench-$n.txt | cut -d'|' -f2,4,5,7,9
  T
done
QSPEC_WGMMA_BN=128 timeout 200 ncu --set full --import-source no -k regex:wgmma -o $OUT/r/wg /tmp/qb profile > $OUT/r/ncu-run.txt 2>&1
echo "ncu rc=$?"; T
ncu --import $OUT/r/wg.ncu-rep --print-details all > $OUT/r/ncu.txt 2>&1
grep -E "w4ax|Duration|Compute \(SM\) Throughput|Memory Throughput|L2 Hit|Achieved Occupancy|Registers Per|Executed Ipc A|Issue Slots Busy|Stall|Tensor|Warp Cycles Per Issued|No Eligible" $OUT/r/ncu.txt | head -90
ncu --import $OUT/r/wg.ncu-rep --page source --print-source sass --csv > $OUT/r/ncu-sass.csv 2>&1
rm -f $OUT/r/wg.ncu-rep
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
