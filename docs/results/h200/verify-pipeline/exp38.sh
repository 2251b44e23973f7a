#!/usr/bin/env bash
# Session 9, call 8: copies issued as soon as a copy stage has been read (by a multiplying lane; the in_empty barriers)
# against QSPEC_WGMMA_VERIFY_EARLY=0 (the feeding warpgroup issuing them once the step is multiplied): tests, quick
# bench, the Java GPU suite, the end-to-end table.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for v in "" "QSPEC_WGMMA_VERIFY_EARLY=0"; do
  for a in "" "QSPEC_WGMMA_VERIFY=all"; do
    f=$OUT/r/verify-${v:-default}${a:+-all}.txt; f=${f//=/_}
    env $v $a timeout 50 stdbuf -oL $g/native/build/qspec_test verify > $f 2>&1
    echo "verify $v $a rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep -v ^PASS $f | head -4
  done
done
T
wait
for v in "" "QSPEC_WGMMA_VERIFY_EARLY=0" "QSPEC_WGMMA_VERIFY=0"; do
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
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
