#!/usr/bin/env bash
# Session 12, call 4: the final library (3-D boxes; the two-row-tile bulk kernels walk row tiles where one CTA
# per tile takes more than a wave): qspec_test in full, its bulk cases with forced walks, the full qspec_bench
# (the KERNELS.md table, now with the read-only bound per shape) and the Java GPU suite.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in ":" "QSPEC_BULK_WALK=3:bulk" "QSPEC_BULK_WALK=2:bulk"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}
  env $e timeout 200 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
done
T
wait
timeout 150 /tmp/qb > $OUT/r/native-bench.txt 2>&1
echo "qspec_bench rc=$?"; grep -E "^roofline|^pattern" $OUT/r/native-bench.txt; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/r/native-bench.txt | cut -d'|' -f2,4,5,7,8,10,12 | tr '\n' ';'; echo
T
OUT=$OUT/r timeout 250 bash scripts/device/run.sh tests > $OUT/r/tests-run.txt 2>&1; echo "tests rc=$?"; grep -E "tests (successful|failed)" $OUT/r/tests-run.txt
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
