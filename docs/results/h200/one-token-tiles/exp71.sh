#!/usr/bin/env bash
# Session 13, call 3: end to end, main's library before this session (.device/abl/old) against this session's,
# interleaved, two runs each, at batch 1, 2, 3, 8 and 12 (decode GEMVs at M = 1-12; QSpec's verify at batch 1-3
# is M = 4-12); then the quick bench of q+k+v at M = 1 and 2 with one and two row tiles at one token (the full
# bench of call 2 read 9.4 us there, call 1 7.2).
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
rm -rf /tmp/o && cp -r $g /tmp/o && cp .device/abl/old/libqspec_cuda.so /tmp/o/native/
for v in old new old new; do
  n=$v; [ -d $OUT/r/$n ] && n=$n-2
  st=$g; [ $v = old ] && st=/tmp/o
  QSPEC_STAGE=$st OUT=$OUT/r/$n timeout 140 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,2,3,8,12 --max-tokens 64 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 4645 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -15
  T
done
wait
for v in 16 32 16 32; do
  f=$OUT/r/bench-qkv-rows1-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 QSPEC_BULK_ROWS1=$v QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2 \
    QSPEC_BENCH_SHAPES=q+k+v,q/o,gate+up timeout 60 /tmp/qb > $f 2>&1
  echo "== bench rows1=$v rc=$?"; grep -E '^\| [a-z]' $f | cut -d'|' -f2,4,5,8,12 | tr '\n' ';'; echo
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
