#!/usr/bin/env bash
# Session 9, call 5: the verify kernel with token tiles multicast across clusters of 2 (or 4) row tiles, unpack-ahead,
# uniform descriptors, 3 operand stages: tests (every variant), quick bench against the variants and the kernels
# before, the Java GPU suite, the end-to-end table, the full kernel test.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for v in "" "QSPEC_WGMMA_VERIFY_MC=4" "QSPEC_WGMMA_VERIFY_MC=1"; do
  for a in "" "QSPEC_WGMMA_VERIFY=all"; do
    f=$OUT/r/verify-${v:-default}${a:+-all}.txt; f=${f//=/_}
    env $v $a timeout 50 stdbuf -oL $g/native/build/qspec_test verify > $f 2>&1
    echo "verify $v $a rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep -v ^PASS $f | head -4
  done
done
T
wait
for v in "" "QSPEC_WGMMA_VERIFY_MC=4" "QSPEC_WGMMA_VERIFY_MC=1" "QSPEC_WGMMA_VERIFY=0"; do
  f=$OUT/r/bench-quick-${v:-default}.txt; f=${f//=/_}
  env $v QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=32,64,128,256 timeout 40 /tmp/qb > $f 2>&1
  echo "== bench ${v:-default} rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
OUT=$OUT/r timeout 90 bash scripts/device/run.sh tests > $OUT/r/tests-run.txt 2>&1; echo "tests rc=$?"; grep -E "tests (successful|failed)" $OUT/r/tests-run.txt
T
OUT=$OUT/r/e2e timeout 150 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 1,8,16,32 \
  --max-tokens 64 --modes w16a16,w4a16,w4a8,w4a4,qspec-a8,qspec-a4 --bandwidth-gbps 4642 -- > $OUT/r/e2e.txt 2>&1; echo "e2e rc=$?"
grep -E "^(w16|w4|qspec)" $OUT/r/e2e.txt | head -30
T
timeout 200 stdbuf -oL $g/native/build/qspec_test > $OUT/r/native-test.txt 2>&1
echo "qspec_test rc=$? $(grep -c ^PASS $OUT/r/native-test.txt) PASS $(grep -c ^FAIL $OUT/r/native-test.txt) FAIL"; grep ^FAIL $OUT/r/native-test.txt | head -8; tail -1 $OUT/r/native-test.txt
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
