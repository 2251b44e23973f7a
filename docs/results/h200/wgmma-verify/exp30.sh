#!/usr/bin/env bash
# Session 8, call 6: 2048-token prompts (prefill in verify mode: M = 2048 GEMMs), W4A16 at batch 1, the verify's
# warpgroup kernel on against off.
t0=$(date +%s)
for v in 1 0; do
  QSPEC_WGMMA_VERIFY=$v OUT=$OUT/long-$v timeout 60 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 \
    --backend cuda --batch 1 --prompt-tokens 2048 --max-tokens 32 --modes w4a16 -- > $OUT/long-$v.txt 2>&1
  echo "QSPEC_WGMMA_VERIFY=$v rc=$? t=$(( $(date +%s) - t0 ))"; grep -E "^w4a16" $OUT/long-$v.txt || tail -3 $OUT/long-$v.txt
done
