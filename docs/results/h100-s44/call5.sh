#!/usr/bin/env bash
# Session 44, call 5: the end-to-end setting (16-token prompts, 64 new tokens, synthetic alpha = 0.9, batch 1 /
# 8 / 16 / 32) with the measured gate (--measured-speculation, the gate of call 4), W4A16 beside it, each point twice,
# round-robin (--repeats 2: the median of two is their mean). The library and Java of call 4.
. scripts/device/call-prelude.sh "${BUDGET:-330}"
t0=$(date +%s)
env OUT=$OUT/gated bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
  --batch 1,8,16,32 --max-tokens 64 --modes w4a16,qspec-a8,qspec-a4 --bandwidth-gbps 3350 --repeats 2 \
  --measured-speculation -- 2>&1 | bench_rows gated
echo "gated $(( $(date +%s) - t0 )) s" | tee -a "$S"
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz gated 2>/dev/null; rm -rf gated; ls
