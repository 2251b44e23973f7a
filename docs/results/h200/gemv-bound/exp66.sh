#!/usr/bin/env bash
# Session 12, call 6: W4A16 at M = 6-8, whose two-row-tile bulk kernel takes a ring of 3 chunks (two CTAs per SM)
# and so cannot walk row tiles (4 chunks per tile at K = 4096): the default against a ring of 2 with walks
# (QSPEC_BULK_RING=2) and without (QSPEC_BULK_RING=2 QSPEC_BULK_WALK=0), interleaved; quick bench at M = 4-8.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
for v in default ring2 ring2-nowalk default ring2 ring2-nowalk; do
  env=""; [ $v = ring2 ] && env="QSPEC_BULK_RING=2"; [ $v = ring2-nowalk ] && env="QSPEC_BULK_RING=2 QSPEC_BULK_WALK=0"
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  env $env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=4,6,8 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,8 | tr '\n' ';'; echo
done
QSPEC_BULK_RING=2 timeout 100 $g/native/build/qspec_test bulk > $OUT/r/test-ring2-bulk.txt 2>&1
echo "test ring2 bulk rc=$? $(grep -c ^PASS $OUT/r/test-ring2-bulk.txt) PASS $(grep -c ^FAIL $OUT/r/test-ring2-bulk.txt) FAIL"
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
