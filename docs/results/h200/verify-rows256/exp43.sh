#!/usr/bin/env bash
# Session 10, call 3: the final kernels (256-row CTAs by the wave rule): the full qspec_test, its verify cases with
# every verify GEMM on the warpgroup kernel, the Java GPU suite.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
timeout 200 stdbuf -oL $g/native/build/qspec_test > $OUT/r/native-test.txt 2>&1; echo "qspec_test rc=$?"
f=$OUT/r/native-test.txt; echo "qspec_test: $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep ^FAIL $f | head -8; tail -2 $f
T
OUT=$OUT/r timeout 250 bash scripts/device/run.sh tests > $OUT/r/tests-run.txt 2>&1; echo "tests rc=$?"; grep -E "tests (successful|failed)" $OUT/r/tests-run.txt
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
