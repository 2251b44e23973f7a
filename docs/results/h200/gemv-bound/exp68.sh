#!/usr/bin/env bash
# Session 12, call 8: the bulk GEMVs' consumer warps release a ring entry after the step has used the registers
# the chunk was read into (they released it right after issuing the reads). The ring of 2 that failed in call 7,
# three times; qspec_test in full; the quick bench against the library before (.device/abl/walk), interleaved.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
export PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64
t=$g/native/build/qspec_test
for i in 1 2 3; do
  o=$OUT/r/ring2-$i.txt; QSPEC_BULK_RING=2 timeout 60 $t bulk > $o 2>&1
  echo "ring2 #$i: $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL $(grep ^FAIL $o | cut -c1-60 | tr '\n' ';')"
done
o=$OUT/r/test-default.txt; timeout 200 $t > $o 2>&1; echo "qspec_test rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"
wait
for v in walk fix walk fix; do
  lib=$g/native; [ $v = walk ] && lib=$(pwd)/.device/abl/walk
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2,4,8 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,8 | tr '\n' ';'; echo
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
