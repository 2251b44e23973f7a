#!/usr/bin/env bash
# Session 27, call 1: session 26's last script (next-query-tiles.sh: the query tiles' third layout and two chunks in
# flight in the split schedule, both written after that session's device time) and the end-to-end QSpec-A8 row with
# the final defaults (session 26's call 3 ran it with the query tiles on, since made opt-in).
# (1) `qspec_test attention`; (2) `qspec_bench attention` (default and runs columns) and again with
# QSPEC_ATTENTION_AHEAD=2; (3) QSpec-A8 at batch 1/8/16/32 (the table row); (4) QSpec-A8 at batch 8 with
# QSPEC_ATTENTION_RUNS=auto against the default, short prompts, then 2048-token prompts while time is left.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 420
build_bench &
build=$!
run_test attention 20 attention
grep -E "^FAIL" "$OUT/test-attention.txt" | head -5 | tee -a "$S"
ok=$(grep -q "^ALL PASSED" "$OUT/test-attention.txt" && echo 0 || echo 1)
wait $build; echo "bench build rc=$?" | tee -a "$S"
e2e table-qspec 1,8,16,32 qspec-a8 QSPEC_X=0
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
