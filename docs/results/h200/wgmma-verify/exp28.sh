#!/usr/bin/env bash
# Session 8, call 4: the verify GEMM on wgmma with its final rule: tests, the Java GPU suite, the quick bench
# (against QSPEC_WGMMA_VERIFY=0) and the end-to-end table of the issue.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed" &
timeout 50 stdbuf -oL $g/native/build/qspec_test verify > $OUT/r/verify.txt 2>&1
echo "verify rc=$? $(grep -c ^PASS $OUT/r/verify.txt) PASS $(grep -c ^FAIL $OUT/r/verify.txt) FAIL"; grep -v ^PASS $OUT/r/verify.txt | head -12
T
QSPEC_WGMMA_VERIFY=all timeout 50 stdbuf -oL $g/native/build/qspec_test verify > $OUT/r/verify-all.txt 2>&1
echo "verify all rc=$? $(grep -c ^PASS $OUT/r/verify-all.txt) PASS $(grep -c ^FAIL $OUT/r/verify-all.txt) FAIL"; grep ^FAIL $OUT/r/verify-all.txt | head -6
T
wait
for v in "" "QSPEC_WGMMA_VERIFY=0"; do
  env $v QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=16,32,64,128,256 timeout 40 /tmp/qb > $OUT/r/bench-quick-${v:-default}.txt 2>&1
  echo "== bench ${v:-default} rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/r/bench-quick-${v:-default}.txt | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
OUT=$OUT/r timeout 60 bash scripts/device/run.sh tests > $OUT/r/tests-run.txt 2>&1; echo "tests rc=$?"; grep -E "tests (successful|failed)" $OUT/r/tests-run.txt
T
OUT=$OUT/r/e2e timeout 130 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 1,8,16,32 \
  --max-tokens 64 --modes w16a16,w4a16,w4a8,w4a4,qspec-a8,qspec-a4 --bandwidth-gbps 4642 -- > $OUT/r/e2e.txt 2>&1; echo "e2e rc=$?"
grep -E "^(w16|w4|qspec)" $OUT/r/e2e.txt | head -30
T
timeout 200 stdbuf -oL $g/native/build/qspec_test > $OUT/r/native-test.txt 2>&1
echo "qspec_test rc=$? $(grep -c ^PASS $OUT/r/native-test.txt) PASS $(grep -c ^FAIL $OUT/r/native-test.txt) FAIL"; grep ^FAIL $OUT/r/native-test.txt | head -8; tail -1 $OUT/r/native-test.txt
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
