#!/usr/bin/env bash
# Session 11, call 4: the draft's warpgroup kernel with the warpgroup index read through a shuffle (loop counters
# and descriptors in uniform registers), and that plus the conversion by cvt instead of the magic number
# (.device/abl/cvt): tests, SASS instruction counts, the quick bench against main (.device/abl/old), interleaved.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for a in "" "QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_BN=128"; do
  f=$OUT/r/draft-${a:-default}.txt; f=${f//=/_}; f=${f// /-}
  env $a timeout 90 stdbuf -oL $g/native/build/qspec_test draft > $f 2>&1
  echo "draft [$a] rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep -v ^PASS $f | head -4
done
T
for v in old new cvt; do
  lib=$g/native/libqspec_cuda.so; [ $v != new ] && lib=.device/abl/$v/libqspec_cuda.so
  cuobjdump -sass $lib 2>/dev/null | awk '/Function :/{f=($0 ~ /w4ax_wgmma_kernelILi128/)} f' > $OUT/r/sass-$v.txt
  echo "$v: $(wc -l < $OUT/r/sass-$v.txt) lines, R2UR $(grep -c R2UR $OUT/r/sass-$v.txt), IGMMA $(grep -c IGMMA $OUT/r/sass-$v.txt), I2F $(grep -c I2F $OUT/r/sass-$v.txt)"
done
wait
for v in old new cvt old new cvt; do
  lib=$g/native; [ $v != new ] && lib=$(pwd)/.device/abl/$v
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=32,64,128,256 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
