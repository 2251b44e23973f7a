#!/usr/bin/env bash
# Session 10, call 9: the final rules (K split from M = 33 in both warpgroup kernels; the draft's also at M = 32
# for K >= 8192): qspec_test's draft and verify cases; end to end against the library before (call 5's, in
# .device/abl/old), interleaved, at batch 12 (verify of 48 tokens), 32 (drafts of 32) and 48 (decode of 48).
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64
for c in draft verify; do
  timeout 100 stdbuf -oL $g/native/build/qspec_test $c > $OUT/r/test-$c.txt 2>&1
  f=$OUT/r/test-$c.txt; echo "qspec_test $c rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep ^FAIL $f | head -4
done
T
rm -rf /tmp/o && cp -r $g /tmp/o && cp .device/abl/old/libqspec_cuda.so /tmp/o/native/
for v in old new old new; do
  n=$v; [ -d $OUT/r/$n ] && n=$n-2
  st=$g; [ $v = old ] && st=/tmp/o
  QSPEC_STAGE=$st OUT=$OUT/r/$n timeout 150 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 12,32,48 --max-tokens 64 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 4642 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -9
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
