#!/usr/bin/env bash
# Written in session 26 after the device time was spent, not yet run: the third layout of the query tiles
# (qspec_attention_runs, opt-in: QSPEC_ATTENTION_RUNS): a block of 16 warps per tile, the four warps of each token
# walking its chunk streams as a one-query block's do, the tile's tokens in one block so that their loads can share L1.
# (1) `qspec_test attention` (the tiles against qspec_attention bit for bit, each schedule and build); (2)
# `qspec_bench attention` (the runs columns: the tiles by the rule, walking their splits, split; against the default
# column); (3) the same bench with QSPEC_ATTENTION_AHEAD=2 (two chunks in flight in the split schedule's per-token
# kernel, also written after the device time; on the grids that load ahead by the rule, up to 4 x SMs blocks); (4) end to end, QSpec-A8 at batch 8, QSPEC_ATTENTION_RUNS=auto against the default, short and 2048-token
# prompts. Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 430  # start, budget, g, OUT, S, left, build_bench, run_test, bench, e2e, e2e_long, junit, attention_bench
build_bench &
build=$!
run_test attention 20 attention
grep -E "^FAIL" "$OUT/test-attention.txt" | head -5 | tee -a "$S"
ok=$(grep -q "^ALL PASSED" "$OUT/test-attention.txt" && echo 0 || echo 1)
wait $build; echo "bench build rc=$?" | tee -a "$S"
if [ "$ok" = 0 ]; then
  attention_bench attention QSPEC_X=0
  attention_bench attention-ahead2 QSPEC_ATTENTION_AHEAD=2
  e2e short-runs 8 qspec-a8 QSPEC_ATTENTION_RUNS=auto
  e2e short-default 8 qspec-a8 QSPEC_X=0
  e2e_long long-runs 8 qspec-a8 QSPEC_ATTENTION_RUNS=auto
  e2e_long long-default 8 qspec-a8 QSPEC_X=0
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
