#!/usr/bin/env bash
# Session 13, call 6: the bulk GEMVs' activations laid out so that the two tokens a quarter-warp reads lie on other
# banks (token stride R XROW + 16 XB instead of R (XROW + 32), which was 0 mod 128 bytes at R = 4; call 5's Nsight
# Compute counted 2.2 -> 4.2 M shared-memory bank conflicts on W4A16's lm_head from M = 1 to 4). qspec_test in full,
# its bulk cases with walks of 3, a ring of 2 and one row tile; quick bench against the library before the change
# (.device/abl/prev), interleaved, two runs each.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64
for a in ":" "QSPEC_BULK_WALK=3:bulk" "QSPEC_BULK_RING=2:bulk" "QSPEC_BULK_GEMV=all QSPEC_BULK_ROWS=16:bulk"; do
  e=${a%%:*}; f=${a#*:}; o=$OUT/r/test-${e:-default}-${f:-all}.txt; o=${o//=/_}; o=${o// /_}
  env $e timeout 200 $g/native/build/qspec_test $f > $o 2>&1
  echo "test [$e $f] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
done
T
wait
for v in prev new prev new; do
  lib=$g/native; [ $v = prev ] && lib=$(pwd)/.device/abl/prev
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2,4,8,12,16 \
    QSPEC_BENCH_SHAPES=q/o,gate/up,down,lm_head,q+k+v,gate+up timeout 90 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| [a-z]' $f | grep -v TFLOPS | cut -d'|' -f2,4,5,8 | tr '\n' ';'; echo
  T
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
