#!/usr/bin/env bash
# Session 32, call 9: where a batch-1 decode step's 2.1 ms go on the H100 now. Nsight Compute timelines (warm caches,
# the GPU's own clocks) of W4A16 and of W4A8 decode at batch 1: every kernel's duration over ~5 steps, summed per step
# by docs/results/h200/quantize-registers/summarize.py (here). Then the same bench without ncu, for the step time.
. scripts/device/call-prelude.sh 420
for mode in w4a16 w4a8; do
  [ "$(left)" -lt 100 ] && { echo "skipped timeline $mode" | tee -a "$S"; continue; }
  t0=$(date +%s)
  OUT=$OUT/tl-$mode QSPEC_NCU_WARM=1 QSPEC_SKIP=6000 QSPEC_COUNT=1000 bash scripts/device/run.sh timeline \
    --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 1 --max-tokens 64 --modes $mode -- 2>&1 | tail -3 | tee -a "$S"
  echo "timeline $mode: $(( $(date +%s) - t0 )) s" | tee -a "$S"
  cp "$OUT/tl-$mode/timeline.csv" "$OUT/timeline-$mode.csv" 2>/dev/null
done
E2E_NEED=60 e2e step 1 w4a16,w4a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && rm -rf tl-* step && ls
