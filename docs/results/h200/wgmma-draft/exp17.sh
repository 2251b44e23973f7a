#!/usr/bin/env bash
# Session 7, call 1: the draft's warpgroup (wgmma) kernel: tests, kernel A/B; then qspec_test default;
# then the M = 9-16 rule end to end if time is left.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64
cp $g/native/build/qspec_test /tmp/qt
for cfg in "" "QSPEC_WGMMA_DRAFT=all" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=128" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=64"; do
  n=$(echo "x $cfg" | tr ' =' '__')
  env $cfg timeout 60 /tmp/qt draft > $OUT/r/draft$n.txt 2>&1
  echo "draft [$cfg] rc=$? $(grep -c ^PASS $OUT/r/draft$n.txt) PASS $(grep -c ^FAIL $OUT/r/draft$n.txt) FAIL"; grep ^FAIL $OUT/r/draft$n.txt | head -6
  T
done
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
T
for cfg in "QSPEC_WGMMA_DRAFT=0" "QSPEC_WGMMA_BN=64" "QSPEC_WGMMA_BN=128"; do
  n=$(echo "$cfg" | tr ' =' '__')
  env $cfg QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=32,64,128,256 timeout 90 /tmp/qb > $OUT/r/bench-$n.txt 2>&1
  echo "bench [$cfg] rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/r/bench-$n.txt | cut -d'|' -f2,4,5,8,9,10
  T
done
timeout 130 /tmp/qt > $OUT/r/test-default.txt 2>&1
echo "qspec_test default rc=$? $(grep -c ^PASS $OUT/r/test-default.txt) PASS $(grep -c ^FAIL $OUT/r/test-default.txt) FAIL"; grep -A2 ^FAIL $OUT/r/test-default.txt | head -8
T
for run in off on; do
  [ $(( $(date +%s) - t0 )) -gt 430 ] && break
  env=""; [ $run = off ] && env="QSPEC_BULK_M16=0"
  env $env OUT=$OUT/r/e2e-$run timeout 60 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 4,16 --max-tokens 64 --modes w4a16,qspec-a8 --bandwidth-gbps 4642 -- > $OUT/r/e2e-$run.txt 2>&1
  echo "e2e $run rc=$? $(grep -E '^(w4a16|qspec-a8) ' $OUT/r/e2e-$run.txt | tr -s ' ' | cut -d' ' -f1,3,5 | tr '\n' ';')"
  T
done
rm -rf $OUT/r/e2e-*/
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
