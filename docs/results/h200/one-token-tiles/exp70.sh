#!/usr/bin/env bash
# Session 13, call 2: the library of this session (two row tiles per CTA at one token; W4A16's two-token-tile bulk
# kernel at M = 9-12 on wide matrices): qspec_test in full, its bulk cases with forced walks and on a ring of two,
# the one-row-tile kernels (QSPEC_BULK_GEMV=all QSPEC_BULK_ROWS=16), the full qspec_bench (the KERNELS.md table)
# and the Java GPU suite.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in ":" "QSPEC_BULK_WALK=3:bulk" "QSPEC_BULK_RING=2:bulk" "QSPEC_BULK_GEMV=all QSPEC_BULK_ROWS=16:bulk"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}; o=${o// /_}
  env $e timeout 200 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
done
T
wait
timeout 150 /tmp/qb > $OUT/r/native-bench.txt 2>&1
echo "qspec_bench rc=$?"; grep -E "^HBM" $OUT/r/native-bench.txt; grep -E '^\| [a-z]' $OUT/r/native-bench.txt | cut -d'|' -f2,4,5,6,7,8,9,10 | tr '\n' ';'; echo
T
OUT=$OUT/r timeout 280 bash scripts/device/run.sh tests > $OUT/r/tests-run.txt 2>&1; echo "tests rc=$?"; grep -E "tests (successful|failed)" $OUT/r/tests-run.txt
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
