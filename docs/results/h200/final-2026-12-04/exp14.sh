#!/usr/bin/env bash
# Call 3 (session 6): final library: kernel tests (default, the bulk cases before the sampling tests, one
# row tile at every M <= 8), the Java GPU suite, the end-to-end table.
g=$(pwd)/.device/gpu
export PATH=/usr/local/cuda/bin:$PATH
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
qt() {  # name binary env...
  local name=$1 bin=$2; shift 2
  cp $g/native/build/$bin /tmp/$bin
  env "$@" LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 timeout 150 /tmp/$bin > $OUT/r/native-test-$name.txt 2>&1
  echo "qspec_test $name rc=$? $(grep -c ^PASS $OUT/r/native-test-$name.txt) PASS $(grep -c ^FAIL $OUT/r/native-test-$name.txt) FAIL"; grep -A3 ^FAIL $OUT/r/native-test-$name.txt | head -12
}
qt default qspec_test
grep "rejection" $OUT/r/native-test-default.txt | cut -c1-250 | head -14
qt reorder qspec_test_reorder
grep "rejection.*V=128256" $OUT/r/native-test-reorder.txt | cut -c1-250
qt bulk-all-rows16 qspec_test QSPEC_BULK_GEMV=all QSPEC_BULK_ROWS=16
T
OUT=$OUT/r/java timeout 120 bash scripts/device/run.sh tests > $OUT/r/gpu-tests.txt 2>&1; echo "java rc=$?"; grep -E "tests (successful|failed)" $OUT/r/gpu-tests.txt | head -5
T
OUT=$OUT/r/e2e timeout 280 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 1,8,16,32 --max-tokens 64 --modes w16a16,w4a16,w4a8,w4a4,qspec-a8,qspec-a4 --bandwidth-gbps 4642 -- > $OUT/r/e2e.txt 2>&1
echo "e2e rc=$?"; grep -E "^(w16a16|w4a16|w4a8|w4a4|qspec-a8|qspec-a4) " $OUT/r/e2e.txt
T
cp $OUT/r/e2e/bench/bench.* $OUT/r/ 2>/dev/null
rm -rf $OUT/r/java $OUT/r/e2e
tar czf $OUT/r.tgz -C $OUT r
