#!/usr/bin/env bash
# Session 8, call 1: the final split rule and the sm_90a probe (kernel tests, quick bench, Java GPU suite),
# and the wgmma bit experiment.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -Inative/src -gencode=arch=compute_90a,code=sm_90a native/test/wgmma_bits.cu -o /tmp/wb &&
  timeout 60 /tmp/wb > $OUT/r/wgmma-bits.txt 2>&1; echo "wgmma_bits rc=$?"; cat $OUT/r/wgmma-bits.txt | tail -12
T
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed" &
timeout 240 $g/native/build/qspec_test > $OUT/r/native-test.txt 2>&1
echo "qspec_test rc=$? $(grep -c ^PASS $OUT/r/native-test.txt) PASS $(grep -c ^FAIL $OUT/r/native-test.txt) FAIL"; grep -v ^PASS $OUT/r/native-test.txt | head -8
T
QSPEC_WGMMA_DRAFT=all timeout 70 $g/native/build/qspec_test draft > $OUT/r/draft-all.txt 2>&1
echo "draft all rc=$? $(grep -c ^PASS $OUT/r/draft-all.txt) PASS $(grep -c ^FAIL $OUT/r/draft-all.txt) FAIL"; grep ^FAIL $OUT/r/draft-all.txt | head -6
T
wait
QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,16,32,64,96,128,256 timeout 60 /tmp/qb > $OUT/r/bench-quick.txt 2>&1
echo "bench rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $OUT/r/bench-quick.txt | cut -d'|' -f2,4,5,7,9
T
OUT=$OUT/r timeout 250 bash scripts/device/run.sh tests > $OUT/r/tests-run.txt 2>&1; echo "tests rc=$?"; tail -15 $OUT/r/tests-run.txt
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
