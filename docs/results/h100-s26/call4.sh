#!/usr/bin/env bash
# Session 26, device call 4 (H100): large passes (2 x SMs (token, head) pairs and more) in the attention's split
# schedule by default where the block table spans 2048 positions or more (QSPEC_ATTENTION_LARGE_SPLIT=0: never, the
# rule before); the query tiles now opt-in (QSPEC_ATTENTION_RUNS), their q rows loaded in one pass. (1) `qspec_test
# attention`; (2) the JUnit GPU suite; (3) `qspec_bench attention` with the new rule and with the old, interleaved;
# (4) end to end with 2048-token prompts, QSpec-A8 at batch 8 under both rules. Run from the repository root after
# scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 400  # start, budget, g, OUT, S, left, build_bench, run_test, bench, e2e, e2e_long
build_bench &
build=$!
run_test attention 20 attention
grep -E "^FAIL" "$OUT/test-attention.txt" | head -5 | tee -a "$S"
env OUT=$OUT/junit bash scripts/device/run.sh tests 2>&1 | grep -E "junit rc|tests (successful|failed|aborted)|✘" \
  | head -20 | tee -a "$S"
wait $build; echo "bench build rc=$?" | tee -a "$S"
for name in large0 default; do
  [ "$(left)" -lt 120 ] && { echo "skipped attention-$name" | tee -a "$S"; continue; }
  t0=$(date +%s)
  env $([ $name = large0 ] && echo QSPEC_ATTENTION_LARGE_SPLIT=0 || echo QSPEC_X=0) timeout -s KILL 170 \
    /tmp/qspec_bench attention > "$OUT/attention-$name.txt" 2>&1
  echo "attention-$name rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -E "^attn" "$OUT/attention-$name.txt" | tee -a "$S"
done
e2e_long long-default 8 qspec-a8 QSPEC_X=0
e2e_long long-large0 8 qspec-a8 QSPEC_ATTENTION_LARGE_SPLIT=0
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt junit/*.txt */bench/bench.txt 2>/dev/null
