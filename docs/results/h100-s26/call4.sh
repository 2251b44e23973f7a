#!/usr/bin/env bash
# Session 26, device call 4 (H100): large passes (2 x SMs (token, head) pairs and more) in the attention's split
# schedule by default where the block table spans 2048 positions or more (QSPEC_ATTENTION_LARGE_SPLIT=0: never, the
# rule before); the query tiles now opt-in (QSPEC_ATTENTION_RUNS), their q rows loaded in one pass. (1) `qspec_test
# attention`; (2) the JUnit GPU suite; (3) `qspec_bench attention` with the new rule and with the old, interleaved;
# (4) end to end with 2048-token prompts, QSpec-A8 at batch 8 under both rules. Run from the repository root after
# scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 400  # start, budget, g, OUT, S, left, build_bench, run_test, bench, e2e, e2e_long, junit, attention_bench
build_bench &
build=$!
run_test attention 20 attention
grep -E "^FAIL" "$OUT/test-attention.txt" | head -5 | tee -a "$S"
junit
wait $build; echo "bench build rc=$?" | tee -a "$S"
attention_bench attention-large0 QSPEC_ATTENTION_LARGE_SPLIT=0
attention_bench attention-default QSPEC_X=0
e2e_long long-default 8 qspec-a8 QSPEC_X=0
e2e_long long-large0 8 qspec-a8 QSPEC_ATTENTION_LARGE_SPLIT=0
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt junit/*.txt */bench/bench.txt 2>/dev/null
