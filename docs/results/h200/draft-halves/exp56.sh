#!/usr/bin/env bash
# Session 11, call 6: the final library (shuffle + cvt in the draft's warpgroup kernel; no deep ring): the draft
# cases of qspec_test, the full qspec_bench (the KERNELS.md table), the Java GPU suite.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
timeout 90 stdbuf -oL $g/native/build/qspec_test draft > $OUT/r/test-draft.txt 2>&1
f=$OUT/r/test-draft.txt; echo "qspec_test draft rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep ^FAIL $f | head -4
wait
timeout 120 /tmp/qb > $OUT/r/native-bench.txt 2>&1
echo "qspec_bench rc=$?"; grep -E "^roofline|^pattern" $OUT/r/native-bench.txt; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/r/native-bench.txt | cut -d'|' -f2,4,5,7,8 | tr '\n' ';'; echo
T
OUT=$OUT/r timeout 250 bash scripts/device/run.sh tests > $OUT/r/tests-run.txt 2>&1; echo "tests rc=$?"; grep -E "tests (successful|failed)" $OUT/r/tests-run.txt
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
