#!/usr/bin/env bash
# Session 10, call 4: end to end on the final kernels. The table (PERFORMANCE.md); the verify kernel's 128-row CTAs
# everywhere (QSPEC_WGMMA_VERIFY_ROWS=128, the kernel before) against the rule, interleaved, at batch 32; and with
# 2048-token prompts (prefill: GEMMs of M = 2048).
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
OUT=$OUT/r/e2e timeout 170 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 1,8,16,32 \
  --max-tokens 64 --modes w16a16,w4a16,w4a8,w4a4,qspec-a8,qspec-a4 --bandwidth-gbps 4642 -- > $OUT/r/e2e.txt 2>&1; echo "e2e rc=$?"
grep -E "^(w16|w4|qspec)" $OUT/r/e2e.txt | head -30
T
for v in QSPEC_WGMMA_VERIFY_ROWS=128 rule QSPEC_WGMMA_VERIFY_ROWS=128 rule; do
  n=b32-${v#QSPEC_WGMMA_VERIFY_}; [ -d $OUT/r/$n ] && n=$n-2
  env ${v/rule/QSPEC_X=1} OUT=$OUT/r/$n timeout 100 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 32 --max-tokens 64 --modes w4a16,qspec-a8 --bandwidth-gbps 4642 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -4
done
T
for v in QSPEC_WGMMA_VERIFY_ROWS=128 rule; do
  n=long-${v#QSPEC_WGMMA_VERIFY_}
  env ${v/rule/QSPEC_X=1} OUT=$OUT/r/$n timeout 100 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --prompt-tokens 2048 --max-tokens 32 --batch 1 --modes w4a16 --bandwidth-gbps 4642 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -4
done
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
