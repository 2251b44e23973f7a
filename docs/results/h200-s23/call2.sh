#!/usr/bin/env bash
# Session 23, device call 2 (ran on an H200): the full kernel benchmark (the Llama-3-8B shapes at M = 1 ... 256
# against the measured roofline and cuBLAS fp16) and the end-to-end table with session 22's kernels; the table with
# the kept tokens of the bulk-copy GEMVs on (KEEP=1) or off (KEEP=0, the default), then the decode rows that the kept
# tokens touch (W4A16 and W4A8 at batch 1-16, QSpec-A8 at batch 1-4: verify passes of 4-16 tokens) with the other
# setting, for the end-to-end A/B.
# Steps skipped once fewer than their seconds are left of BUDGET (default 560); the summary ($OUT/summary.txt)
# is appended as it goes. Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 560  # start, budget, g, OUT, S, left, build_bench
[ -x /tmp/qspec_bench ] || build_bench
echo "bench build rc=$?, $(left) s left" | tee -a "$S"
t0=$(date +%s)
timeout -s KILL 150 /tmp/qspec_bench > "$OUT/native-bench.txt" 2>&1
echo "qspec_bench rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
grep -E '^(roofline|HBM|cuBLAS|device)' "$OUT/native-bench.txt" | head -8 | tee -a "$S"
keep=${KEEP:-0}
if [ "$(left)" -ge 200 ]; then
  t0=$(date +%s)
  env OUT=$OUT/e2e QSPEC_BULK_KEEP=$keep bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 1,8,16,32 \
    --max-tokens 64 --modes w16a16,w4a16,w4a8,w4a4,qspec-a8,qspec-a4 --bandwidth-gbps 3350 -- 2>&1 \
    | grep -E '^(w16|w4|qspec|bench rc)' | tee -a "$S"
  echo "e2e (QSPEC_BULK_KEEP=$keep) $(( $(date +%s) - t0 )) s" | tee -a "$S"
else echo "skipped e2e" | tee -a "$S"; fi
if [ "$(left)" -ge 120 ]; then
  t0=$(date +%s)
  env OUT=$OUT/e2e-ab QSPEC_BULK_KEEP=$((1 - keep)) bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 \
    --backend cuda --batch 1,4,8,16 --max-tokens 64 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 3350 -- 2>&1 \
    | grep -E '^(w4|qspec|bench rc)' | sed "s/^/keep=$((1 - keep)) /" | tee -a "$S"
  echo "e2e A/B (QSPEC_BULK_KEEP=$((1 - keep))) $(( $(date +%s) - t0 )) s" | tee -a "$S"
else echo "skipped e2e A/B" | tee -a "$S"; fi
for ht in 0 all; do  # attention head tiles against one head a block, for verify-sized passes
  [ "$(left)" -lt 40 ] && { echo "skipped attention $ht" | tee -a "$S"; continue; }
  QSPEC_ATTENTION_HEAD_TILES=$ht timeout -s KILL 60 /tmp/qspec_bench attention > "$OUT/attention-ht$ht.txt" 2>&1
  echo "attention (QSPEC_ATTENTION_HEAD_TILES=$ht) rc=$?" | tee -a "$S"
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt e2e*/bench/bench.txt e2e*/bench/bench.csv e2e*/bench/bench.json 2>/dev/null
