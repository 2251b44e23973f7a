#!/usr/bin/env bash
# Session 10, call 2: the rule by waves (256-row CTAs where 1.6 x their waves are fewer): verify tests; quick bench
# against ablations of the copies (timing only, call2-ablate.patch): a1 without the scale box, a2 without the
# weight box.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in "" "QSPEC_WGMMA_VERIFY=all"; do
  f=$OUT/r/verify-${a:-default}.txt; f=${f//=/_}; f=${f// /-}
  env $a timeout 60 stdbuf -oL $g/native/build/qspec_test verify > $f 2>&1
  echo "verify [$a] rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep -v ^PASS $f | head -4
done
T
wait
for v in default a1 a2 default-2; do
  f=$OUT/r/bench-quick-$v.txt
  lib=$g/native; [ -d .device/abl/$v ] && lib=$(pwd)/.device/abl/$v
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=64,128,256 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
