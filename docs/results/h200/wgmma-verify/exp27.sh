#!/usr/bin/env bash
# Session 8, call 3: the verify GEMM on wgmma, weights in registers (w4a16_wgmma.cu): its tests, the quick bench against the kernels
# before (QSPEC_WGMMA_VERIFY=0) and with each split, the Java GPU suite, and end to end.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed" &
timeout 60 $g/native/build/qspec_test verify > $OUT/r/verify.txt 2>&1
echo "verify rc=$? $(grep -c ^PASS $OUT/r/verify.txt) PASS $(grep -c ^FAIL $OUT/r/verify.txt) FAIL"; grep -v ^PASS $OUT/r/verify.txt | head -12
T
QSPEC_WGMMA_VERIFY=all timeout 60 $g/native/build/qspec_test verify > $OUT/r/verify-all.txt 2>&1
echo "verify all rc=$? $(grep -c ^PASS $OUT/r/verify-all.txt) PASS $(grep -c ^FAIL $OUT/r/verify-all.txt) FAIL"; grep ^FAIL $OUT/r/verify-all.txt | head -6
T
wait
for v in "" "QSPEC_WGMMA_VERIFY=0" "QSPEC_WGMMA_VERIFY_SPLIT=1" "QSPEC_WGMMA_VERIFY_SPLIT=8"; do
  env $v QSPEC_WGMMA_VERIFY_MIN_M=16 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=16,32,64,128,256 timeout 60 /tmp/qb > $OUT/r/bench-quick-${v:-default}.txt 2>&1
  echo "== bench ${v:-default} (min M 16) rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/r/bench-quick-${v:-default}.txt | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
timeout 200 $g/native/build/qspec_test > $OUT/r/native-test.txt 2>&1
echo "qspec_test rc=$? $(grep -c ^PASS $OUT/r/native-test.txt) PASS $(grep -c ^FAIL $OUT/r/native-test.txt) FAIL"; grep ^FAIL $OUT/r/native-test.txt | head -8
T
OUT=$OUT/r timeout 100 bash scripts/device/run.sh tests > $OUT/r/tests-run.txt 2>&1; echo "tests rc=$?"; grep -E "tests (successful|failed)" $OUT/r/tests-run.txt
T
for v in "QSPEC_WGMMA_VERIFY_MIN_M=64" "QSPEC_WGMMA_VERIFY=0"; do
  env $v OUT=$OUT/r/e2e-$v timeout 100 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 8,16,32 \
    --max-tokens 64 --modes w4a16,qspec-a8,qspec-a4 --bandwidth-gbps 4642 -- > $OUT/r/e2e-$v.txt 2>&1; echo "e2e $v rc=$?"
  grep -E "^(w4a16|qspec)" $OUT/r/e2e-$v.txt | head -12
  T
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
