#!/usr/bin/env bash
# Session 11, call 1: the draft's warpgroup kernel with its sums in two token halves (one half multiplied while
# the other is folded; all groups waited for every PAIR steps): its tests, and the quick bench against the kernel
# before (QSPEC_WGMMA_DRAFT_HALVES=0, the same library) and PAIR = 4 (.device/abl/p4).
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
wait
cuobjdump -sass $g/native/libqspec_cuda.so 2>/dev/null | awk '/Function :/{f=($0 ~ /w4ax_wgmma_kernelILi128ELb1/)} f' > /tmp/sass.txt
echo "halves kernel SASS: $(wc -l < /tmp/sass.txt) lines; $(grep -c IGMMA /tmp/sass.txt) IGMMA, $(grep -c 'WARPGROUP.DEPBAR' /tmp/sass.txt) DEPBAR, $(grep -c 'WARPGROUP.ARRIVE' /tmp/sass.txt) ARRIVE"
grep -E "IGMMA|WARPGROUP" /tmp/sass.txt | sed 's/^ *//' | cut -c1-90 | head -40 > $OUT/r/sass-gmma.txt
for v in "QSPEC_WGMMA_DRAFT_HALVES=0" "" "p4" "QSPEC_WGMMA_DRAFT_HALVES=0" ""; do
  lib=$g/native; e=$v; [ "$v" = p4 ] && { lib=$(pwd)/.device/abl/p4; e=; }
  f=$OUT/r/bench-${v:-halves}.txt; f=${f//=/_}; [ -e $f ] && f=${f%.txt}-2.txt
  env $e LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=64,128,256 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench ${v:-halves} rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,7 | tr '\n' ';'; echo
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
