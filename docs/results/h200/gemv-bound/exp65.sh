#!/usr/bin/env bash
# Session 12, call 5: end to end on the final library. The table (PERFORMANCE.md), then main's library before this
# session (.device/abl/old) against it, interleaved, at batch 1, 2, 4 and 8 (decode GEMVs at M = 1-8; QSpec's
# verify at batch 1 and 2 is M = 4 and 8).
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
OUT=$OUT/r/e2e timeout 220 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 1,8,16,32 \
  --max-tokens 64 --modes w16a16,w4a16,w4a8,w4a4,qspec-a8,qspec-a4 --bandwidth-gbps 4645 -- > $OUT/r/e2e.txt 2>&1; echo "e2e rc=$?"
grep -E "^(w16|w4|qspec)" $OUT/r/e2e.txt | head -30
T
rm -rf /tmp/o && cp -r $g /tmp/o && cp .device/abl/old/libqspec_cuda.so /tmp/o/native/
for v in old new old new; do
  n=$v; [ -d $OUT/r/$n ] && n=$n-2
  st=$g; [ $v = old ] && st=/tmp/o
  QSPEC_STAGE=$st OUT=$OUT/r/$n timeout 150 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,2,4,8 --max-tokens 64 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 4645 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -12
  T
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
