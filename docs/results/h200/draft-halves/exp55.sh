#!/usr/bin/env bash
# Session 11, call 5: the draft's 64-token grids of at most one CTA per SM on a build with six steps of copies in
# flight (QSPEC_WGMMA_DRAFT_DEEP=0: the three-step build); all of qspec_test, the draft cases in each build; the
# quick bench of main (.device/abl/old), DEEP=0 and this library, interleaved; the full qspec_bench.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
timeout 200 stdbuf -oL $g/native/build/qspec_test > $OUT/r/native-test.txt 2>&1
f=$OUT/r/native-test.txt; echo "qspec_test rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep ^FAIL $f | head -4; tail -1 $f
for a in "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=64" "QSPEC_WGMMA_DRAFT_DEEP=0"; do
  f=$OUT/r/draft-$a.txt; f=${f//=/_}; f=${f// /-}
  env $a timeout 90 stdbuf -oL $g/native/build/qspec_test draft > $f 2>&1
  echo "draft [$a] rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep ^FAIL $f | head -4
done
T
wait
for v in old deep0 new old deep0 new; do
  lib=$g/native; [ $v = old ] && lib=$(pwd)/.device/abl/old
  e=QSPEC_X=1; [ $v = deep0 ] && e=QSPEC_WGMMA_DRAFT_DEEP=0
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  env $e LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=32,64,128,256 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
timeout 240 /tmp/qb > $OUT/r/native-bench.txt 2>&1
echo "qspec_bench rc=$?"; grep -v '^csv' $OUT/r/native-bench.txt | grep -E "^\| |HBM|TFLOPS|TOPS|GB/s" | head -60
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
