#!/usr/bin/env bash
# Session 13, call 4: batch 1 end to end with longer runs (512 new tokens), main's library (.device/abl/old) against
# this session's, interleaved, three runs each (call 3's 64-token runs moved ±3 % between runs of one library);
# then the PERFORMANCE.md table on this session's library.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
rm -rf /tmp/o && cp -r $g /tmp/o && cp .device/abl/old/libqspec_cuda.so /tmp/o/native/
for v in old new old new old new; do
  n=$v; [ -d $OUT/r/$n ] && n=$n-2; [ -d $OUT/r/$n ] && n=${n%-2}-3
  st=$g; [ $v = old ] && st=/tmp/o
  QSPEC_STAGE=$st OUT=$OUT/r/$n timeout 90 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1 --max-tokens 512 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 4645 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -3
  T
done
OUT=$OUT/r/e2e timeout 240 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 1,8,16,32 \
  --max-tokens 64 --modes w16a16,w4a16,w4a8,w4a4,qspec-a8,qspec-a4 --bandwidth-gbps 4645 -- > $OUT/r/e2e.txt 2>&1; echo "e2e rc=$?"
grep -E "^(w16|w4|qspec)" $OUT/r/e2e.txt | head -30
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
