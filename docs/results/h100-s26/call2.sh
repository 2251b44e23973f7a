#!/usr/bin/env bash
# Session 26, device call 2 (H100): query tiles for verify passes (qspec_attention_runs, ABI 9) and four row tiles at
# M = 9-16 on q|k|v as the default (QSPEC_BULK_M16_ROWS64, measured in call 1). (1) `qspec_test attention` (the query
# tiles against qspec_attention bit for bit, each schedule and build); (2) the qspec-cuda JUnit GPU suite (the runner
# now calls qspec_attention_runs); (3) `qspec_bench attention` (verify passes: the default, and the query tiles by the
# rule, walking their splits, split; prefill with query tiles); (4) end to end with 2048-token prompts, QSpec-A8 at
# batch 8 with the query tiles and without (QSPEC_ATTENTION_RUNS=0), then the same with the short prompts of
# PERFORMANCE.md; (5) W4A16 at batch 12 with and without the four row tiles. Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 470  # start, budget, g, OUT, S, left, build_bench, run_test, bench, e2e, e2e_long, junit, attention_bench
build_bench &
build=$!
run_test attention 20 attention
grep -E "^FAIL" "$OUT/test-attention.txt" | head -5 | tee -a "$S"
junit
wait $build; echo "bench build rc=$?" | tee -a "$S"
attention_bench attention QSPEC_X=0
e2e_long long-runs 8 qspec-a8 QSPEC_X=0
e2e_long long-noruns 8 qspec-a8 QSPEC_ATTENTION_RUNS=0
e2e short-runs 8 qspec-a8 QSPEC_X=0
e2e short-noruns 8 qspec-a8 QSPEC_ATTENTION_RUNS=0
e2e rows64-b12 12 w4a16 QSPEC_X=0
e2e rows32-b12 12 w4a16 QSPEC_BULK_M16_ROWS64=0
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt junit/*.txt */bench/bench.txt 2>/dev/null
