#!/usr/bin/env bash
# Session 11, call 2: the draft's warpgroup kernel with its activation scales laid out step-major by the feeder
# (one 8-byte load per two tokens in the fold, no bank conflicts): its tests, the quick bench against the library
# before (.device/abl/old), interleaved, and Nsight Compute of both on gate/up at M = 256.
g=$(pwd)/.device/gpu
old=$(pwd)/.device/abl/old
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in "" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=128" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=64"; do
  f=$OUT/r/draft-${a:-default}.txt; f=${f//=/_}; f=${f// /-}
  env $a timeout 90 stdbuf -oL $g/native/build/qspec_test draft > $f 2>&1
  echo "draft [$a] rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep -v ^PASS $f | head -4
done
T
wait
for v in old new old new; do
  lib=$g/native; [ $v = old ] && lib=$old
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=32,64,128,256 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
for v in old new; do
  lib=$g/native; [ $v = old ] && lib=$old
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 timeout 150 ncu --section SpeedOfLight --section ComputeWorkloadAnalysis \
    --section MemoryWorkloadAnalysis_Tables --section WarpStateStats --section InstructionStats --section Occupancy \
    -k regex:w4ax_wgmma_kernelILi128 -c 1 /tmp/qb profile > $OUT/r/ncu-$v.txt 2>&1
  echo "ncu $v rc=$?"
  grep -E "Duration|Issue Slots Busy|Executed Ipc A|Shared|Stall|Warp Cycles Per Issued|No Eligible|Bank" $OUT/r/ncu-$v.txt | head -30
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
