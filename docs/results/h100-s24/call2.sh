#!/usr/bin/env bash
# Session 24, device call 2 (written for an H100): the end-to-end table of issue 5 with session 23's defaults (random
# Llama-3-8B shape, batch 1/8/16/32, every mode; QSpec with the synthetic α = 0.9), then the end-to-end A/B of
# session 23's verify and attention rules, which no GPU has run as defaults: QSpec-A8 at batch 4/8/16 (verify passes
# of 16-64 tokens) and W4A16 at batch 24/32, with the rules (default) and without (QSPEC_WGMMA_VERIFY_SMALL_GRIDS=0
# QSPEC_ATTENTION_HEAD_TILES=0), interleaved twice; then the fused RoPE + attention (v_pair loads) test and bench.
# Steps skipped once fewer than their seconds are left of BUDGET (default 560); the summary ($OUT/summary.txt)
# is appended as it goes. Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 560  # start, budget, g, OUT, S, left, build_bench
if [ "$(left)" -ge 200 ]; then
  t0=$(date +%s)
  env OUT=$OUT/e2e bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 1,8,16,32 \
    --max-tokens 64 --modes w16a16,w4a16,w4a8,w4a4,qspec-a8,qspec-a4 --bandwidth-gbps 3350 -- 2>&1 \
    | grep -E '^(w16|w4|qspec|bench rc)' | tee -a "$S"
  echo "e2e $(( $(date +%s) - t0 )) s" | tee -a "$S"
else echo "skipped e2e" | tee -a "$S"; fi
ab() {  # NAME [VAR=value ...]: QSpec-A8 at batch 4/8/16 and W4A16 at 24/32 under the variables
  local name=$1; shift
  [ "$(left)" -lt 70 ] && { echo "skipped $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env OUT=$OUT/$name "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 4,8,16 --max-tokens 64 --modes w4a16,qspec-a8 --bandwidth-gbps 3350 -- 2>&1 \
    | grep -E '^(w4|qspec|bench rc)' | sed "s/^/$name /" | tee -a "$S"
  env OUT=$OUT/$name-b32 "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 24,32 --max-tokens 64 --modes w4a16 --bandwidth-gbps 3350 -- 2>&1 \
    | grep -E '^(w4|qspec|bench rc)' | sed "s/^/$name /" | tee -a "$S"
  echo "$name ($*) $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
for i in 1 2; do
  ab rules-$i QSPEC_X=0
  ab s22-$i QSPEC_WGMMA_VERIFY_SMALL_GRIDS=0 QSPEC_ATTENTION_HEAD_TILES=0
done
if [ "$(left)" -ge 60 ]; then  # the fused RoPE + attention with read-only pool loads (v_pair; never run)
  timeout -s KILL 100 "$g/native/build/qspec_test" attention > "$OUT/test-attention.txt" 2>&1
  echo "qspec_test attention rc=$?: $(grep -c ^PASS "$OUT/test-attention.txt") PASS" | tee -a "$S"
  grep -v ^PASS "$OUT/test-attention.txt" | head -6 | tee -a "$S"
fi
if [ "$(left)" -ge 40 ]; then
  [ -x /tmp/qspec_bench ] || build_bench
  timeout -s KILL 60 /tmp/qspec_bench rope-attention > "$OUT/rope-attention.txt" 2>&1
  echo "qspec_bench rope-attention rc=$?" | tee -a "$S"; tail -12 "$OUT/rope-attention.txt" >> "$S"
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt */bench/bench.csv e2e/bench/bench.json 2>/dev/null
