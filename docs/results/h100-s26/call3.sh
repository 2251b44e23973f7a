#!/usr/bin/env bash
# Session 26, device call 3 (H100): query tiles rebuilt after call 2 (there, a block's 16 rows in every warp's
# fully unrolled chunk body ran ~37 us a split whatever the context: 42 us for 4 tokens at 128 positions against 6.6).
# Now warp w of a tile computes token w with its GT heads, walking the split's four chunk streams one after another,
# so the tile's warps read the same chunks (L1) and each row keeps the one-query bits. (1) `qspec_test attention`;
# (2) the JUnit GPU suite; (3) `qspec_bench attention`; (4) end to end, QSpec-A8 at batch 8, query tiles against
# QSPEC_ATTENTION_RUNS=0, short prompts and 2048-token prompts; (5) the end-to-end table with this session's
# defaults. Run from the repository root after scripts/device/stage.sh
# here (carry .device/gpu).
. scripts/device/call-prelude.sh 520  # start, budget, g, OUT, S, left, build_bench, run_test, bench, e2e, e2e_long, junit, attention_bench
build_bench &
build=$!
run_test attention 20 attention
grep -E "^FAIL" "$OUT/test-attention.txt" | head -5 | tee -a "$S"
junit
wait $build; echo "bench build rc=$?" | tee -a "$S"
attention_bench attention QSPEC_X=0
e2e short-runs 8 qspec-a8 QSPEC_X=0
e2e short-noruns 8 qspec-a8 QSPEC_ATTENTION_RUNS=0
e2e_long long-runs 8 qspec-a8 QSPEC_X=0
e2e_long long-noruns 8 qspec-a8 QSPEC_ATTENTION_RUNS=0
# the table (PERFORMANCE.md)
if [ "$(left)" -ge 90 ]; then
  t0=$(date +%s)
  env OUT=$OUT/table bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8,16,32 --max-tokens 64 --modes w16a16,w4a16,w4a8,qspec-a8 --bandwidth-gbps 3350 -- 2>&1 \
    | grep -E '^(w16|w4|qspec|bench rc)' | sed "s/^/table /" | tee -a "$S"
  echo "table $(( $(date +%s) - t0 )) s" | tee -a "$S"
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt junit/*.txt */bench/bench.txt 2>/dev/null
