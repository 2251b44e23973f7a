#!/usr/bin/env bash
# Session 9, call 1: validate the shared wgmma_cta.cuh (made after the last call of session 8) on the GPU, the rate
# of the warpgroup MMA shapes (wgmma_rate.cu), and Nsight Compute on the two warpgroup GEMM kernels.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
(nvcc -O2 -std=c++17 -Inative/include -Inative/src -gencode=arch=compute_90a,code=sm_90a native/test/wgmma_rate.cu \
  -o /tmp/wr || echo "rate build failed") &
timeout 50 stdbuf -oL $g/native/build/qspec_test verify > $OUT/r/verify.txt 2>&1
echo "verify rc=$? $(grep -c ^PASS $OUT/r/verify.txt) PASS $(grep -c ^FAIL $OUT/r/verify.txt) FAIL"; grep -v ^PASS $OUT/r/verify.txt | head -12
QSPEC_WGMMA_VERIFY=all timeout 50 stdbuf -oL $g/native/build/qspec_test verify > $OUT/r/verify-all.txt 2>&1
echo "verify all rc=$? $(grep -c ^PASS $OUT/r/verify-all.txt) PASS $(grep -c ^FAIL $OUT/r/verify-all.txt) FAIL"; grep ^FAIL $OUT/r/verify-all.txt | head -6
T
wait
timeout 60 /tmp/wr > $OUT/r/wgmma-rate.txt 2>&1; echo "rate rc=$?"; cat $OUT/r/wgmma-rate.txt
T
QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=64,128,256 timeout 40 /tmp/qb > $OUT/r/bench-quick.txt 2>&1
echo "== bench rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/r/bench-quick.txt | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
T
timeout 200 ncu --set full --import-source no -k regex:wgmma -o $OUT/r/wgmma /tmp/qb profile > $OUT/r/ncu-run.txt 2>&1
echo "ncu rc=$?"; tail -3 $OUT/r/ncu-run.txt
ncu --import $OUT/r/wgmma.ncu-rep --print-details all > $OUT/r/ncu.txt 2>&1
grep -E "w4a|w4ax|Duration|Memory Throughput|Registers Per|Executed Ipc A|Issue Slots Busy|Stall|Shared Memory|Bank" $OUT/r/ncu.txt | head -120
ncu --import $OUT/r/wgmma.ncu-rep --page source --print-source sass --csv > $OUT/r/ncu-sass.csv 2>&1
echo "sass page: $(wc -l < $OUT/r/ncu-sass.csv) lines"
ncu --import $OUT/r/wgmma.ncu-rep --page raw --csv > $OUT/r/ncu-raw.csv 2>&1
T
timeout 200 stdbuf -oL $g/native/build/qspec_test > $OUT/r/native-test.txt 2>&1
echo "qspec_test rc=$? $(grep -c ^PASS $OUT/r/native-test.txt) PASS $(grep -c ^FAIL $OUT/r/native-test.txt) FAIL"; grep ^FAIL $OUT/r/native-test.txt | head -8; tail -1 $OUT/r/native-test.txt
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
