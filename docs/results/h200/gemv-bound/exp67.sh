#!/usr/bin/env bash
# Session 12, call 7: call 6 found `QSPEC_BULK_RING=2 qspec_test bulk` failing 3 cases (W4A16 bulk kernel forced to a
# ring of 2 chunks; the default rings are 3 and 4). Which library has it: main before this session (.device/abl/old,
# 2-D boxes), the 3-D boxes alone (.device/abl/c3d, commit 8e8b1c2), this tree; and whether the default rings
# are clean when repeated.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t=$g/native/build/qspec_test
for v in old c3d new; do
  lib=$g/native; [ $v != new ] && lib=$(pwd)/.device/abl/$v
  for i in 1 2; do
    o=$OUT/r/ring2-$v-$i.txt
    QSPEC_BULK_RING=2 LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 timeout 60 $t bulk > $o 2>&1
    echo "ring2 $v #$i: $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL $(grep ^FAIL $o | cut -c1-60 | tr '\n' ';')"
  done
done
for r in 3 4; do
  for i in 1 2 3; do
    o=$OUT/r/ring$r-new-$i.txt
    QSPEC_BULK_RING=$r LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 timeout 60 $t bulk > $o 2>&1
    echo "ring$r new #$i: $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL $(grep ^FAIL $o | cut -c1-60 | tr '\n' ';')"
  done
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
