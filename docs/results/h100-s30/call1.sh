#!/usr/bin/env bash
# Session 30, device call 1 (docs/results/h100-s30/call1.sh): session 29's call 3 (four token tiles at M = 17-32 by
# session 29's rule, never run end to end), with this session's K split of the draft's bulk kernel (off by default,
# QSPEC_BULK_DRAFT_SPLIT) and the checks session 29 left. (1) `qspec_test bulk` with both GEMMs' K split everywhere
# (QSPEC_BULK_SPLIT=all QSPEC_BULK_DRAFT_SPLIT=all); (2) the quick GEMM table at M = 12-32 with the rule, and with
# both K splits everywhere (a four-token-tile CTA of q/o brings in twice its weight bytes in tokens: split, half);
# (3) the issue's end-to-end table (W4A16, W4A8, QSpec-A8 at batch 1/8/16/32) with the rule, and the same modes at
# batch 8-32 with QSPEC_BULK_M32=0 (session 28's default) in the same call, and the draft's modes at 16-32 with its K split
# everywhere; (0, first) `qspec_test sampling` (session 29's
# frequency penalty of 1e300, never run on a GPU); (4) with FULL=1 the full `qspec_test`; (5) the JUnit GPU suite if
# time is left.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 470
build_bench &
build=$!
run_test sampling 30 sampling
run_test bulk-split 120 bulk QSPEC_BULK_SPLIT=all QSPEC_BULK_DRAFT_SPLIT=all
wait $build; echo "bench build rc=$?" | tee -a "$S"
export MS=12,16,17,24,32
bench rule
grep -q "^ALL PASSED" "$OUT/test-bulk-split.txt" && bench split QSPEC_BULK_SPLIT=all QSPEC_BULK_DRAFT_SPLIT=all
unset MS
if [ "$(left)" -ge 60 ]; then
  t0=$(date +%s)
  env OUT=$OUT/table bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8,16,32 --max-tokens 64 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 3350 -- 2>&1 \
    | grep -E '^(w16|w4|qspec|bench rc)' | sed "s/^/table /" | tee -a "$S"
  echo "table $(( $(date +%s) - t0 )) s" | tee -a "$S"
fi
e2e e2e-off 8,16,32 w4a16,w4a8,qspec-a8 QSPEC_BULK_M32=0
grep -q "^ALL PASSED" "$OUT/test-bulk-split.txt" && e2e e2e-dsplit 16,32 w4a8,qspec-a8 QSPEC_BULK_DRAFT_SPLIT=all
if [ "${FULL:-0}" = 1 ] && [ "$(left)" -ge 240 ]; then
  t0=$(date +%s)
  timeout -s KILL $(( $(left) - 10 )) "$g/native/build/qspec_test" > "$OUT/test-all.txt" 2>&1; r=$?
  { echo "qspec_test all rc=$r: $(grep -c ^PASS "$OUT/test-all.txt") PASS, $(( $(date +%s) - t0 )) s"
    grep -v ^PASS "$OUT/test-all.txt" | head -8; } | tee -a "$S"
else
  echo "skipped qspec_test all" | tee -a "$S"
fi
[ "$(left)" -ge 130 ] && junit || echo "skipped junit" | tee -a "$S"
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
