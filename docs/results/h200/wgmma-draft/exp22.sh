#!/usr/bin/env bash
# Session 7, call 6 (final): the warpgroup draft kernel with the unpacking loads batched. Draft tests first;
# if they fail, the library of call 5 (fallback/) replaces it for the rest. Then the quick kernel bench,
# qspec_test default, the Java GPU suite and the end-to-end table.
g=$(pwd)/.device/gpu
export PATH=/usr/local/cuda/bin:$PATH
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64
cp $g/native/build/qspec_test /tmp/qt
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed" &
timeout 60 /tmp/qt draft > $OUT/r/draft.txt 2>&1; r=$?
echo "draft rc=$r $(grep -c ^PASS $OUT/r/draft.txt) PASS $(grep -c ^FAIL $OUT/r/draft.txt) FAIL"; grep ^FAIL $OUT/r/draft.txt | head -6
QSPEC_WGMMA_DRAFT=all timeout 60 /tmp/qt draft > $OUT/r/draft-all.txt 2>&1; r2=$?
echo "draft all rc=$r2 $(grep -c ^PASS $OUT/r/draft-all.txt) PASS $(grep -c ^FAIL $OUT/r/draft-all.txt) FAIL"; grep ^FAIL $OUT/r/draft-all.txt | head -6
if [ $r -ne 0 ] || [ $r2 -ne 0 ]; then xz -dc $g/native/fallback/libqspec_cuda.so.xz > $g/native/libqspec_cuda.so; echo "FALLBACK to call 5's library"; fi
T
wait
QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=16,32,64,96,128,256 timeout 60 /tmp/qb > $OUT/r/bench-quick.txt 2>&1
echo "bench rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/r/bench-quick.txt | cut -d'|' -f2,4,5,7,9
T
timeout 150 /tmp/qt > $OUT/r/native-test-default.txt 2>&1
echo "qspec_test default rc=$? $(grep -c ^PASS $OUT/r/native-test-default.txt) PASS $(grep -c ^FAIL $OUT/r/native-test-default.txt) FAIL"; grep -A3 ^FAIL $OUT/r/native-test-default.txt | head -12
T
OUT=$OUT/r/java timeout 120 bash scripts/device/run.sh tests > $OUT/r/gpu-tests.txt 2>&1; echo "java rc=$?"; grep -E "tests (successful|failed)" $OUT/r/gpu-tests.txt | head -5
cp $OUT/r/java/gpu-tests.txt $OUT/r/gpu-tests-junit.txt 2>/dev/null
T
left=$(( 540 - ($(date +%s) - t0) ))
OUT=$OUT/r/e2e timeout $left bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 1,8,16,32 --max-tokens 64 --modes w16a16,w4a16,w4a8,w4a4,qspec-a8,qspec-a4 --bandwidth-gbps 4642 -- > $OUT/r/e2e.txt 2>&1
echo "e2e rc=$? (limit $left s)"; grep -E "^(w16a16|w4a16|w4a8|w4a4|qspec-a8|qspec-a4) " $OUT/r/e2e.txt
T
cp $OUT/r/e2e/bench/bench.* $OUT/r/ 2>/dev/null
rm -rf $OUT/r/java $OUT/r/e2e
tar czf $OUT/r.tgz -C $OUT r
