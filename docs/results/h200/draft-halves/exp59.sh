#!/usr/bin/env bash
# Session 11, call 9: the draft's multiplying loop with its barrier addresses and descriptor low words computed
# once (32-bit stage offsets) instead of per step: tests, SASS counts, the quick bench against call 6's library
# (.device/abl/prev), interleaved.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in "" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=128" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=64"; do
  f=$OUT/r/draft-${a:-default}.txt; f=${f//=/_}; f=${f// /-}
  env $a timeout 90 stdbuf -oL $g/native/build/qspec_test draft > $f 2>&1
  echo "draft [$a] rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep ^FAIL $f | head -4
done
T
for v in prev new; do
  lib=$g/native/libqspec_cuda.so; [ $v = prev ] && lib=.device/abl/prev/libqspec_cuda.so
  cuobjdump -sass $lib 2>/dev/null | awk '/Function :/{f=($0 ~ /w4ax_wgmma_kernelILi128/)} f' > $OUT/r/sass-$v.txt
  echo "$v: $(wc -l < $OUT/r/sass-$v.txt) lines, S2R $(grep -c S2R $OUT/r/sass-$v.txt), R2UR $(grep -c R2UR $OUT/r/sass-$v.txt)"
done
wait
for v in prev new prev new; do
  lib=$g/native; [ $v = prev ] && lib=$(pwd)/.device/abl/prev
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=32,64,128,256 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
