#!/usr/bin/env bash
# Session 31's script for the next session (not run: this session's device time was spent): the checks and the table
# after session 31's rule (rings of 2 chunks up to 4 tokens, w4_bulk.cuh SHALLOW_M). (1) the full `qspec_test`, which
# session 31 ran only in its bulk group; (2) the issue's end-to-end table (W4A16, W4A8, QSpec-A8 at batch 1/8/16/32)
# with every point measured three times round-robin (E2E_REPEATS=3: the median and the runs' spread, since two runs of
# one call differ by 2-5 %); (3) the JUnit GPU suite if time is left.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 560
t0=$(date +%s)
timeout -s KILL 230 "$g/native/build/qspec_test" > "$OUT/test-all.txt" 2>&1; r=$?
{ echo "qspec_test all rc=$r: $(grep -c ^PASS "$OUT/test-all.txt") PASS, $(( $(date +%s) - t0 )) s"
  grep -v ^PASS "$OUT/test-all.txt" | head -8; } | tee -a "$S"
E2E_REPEATS=3 E2E_NEED=150 e2e table 1,8,16,32 w4a16,w4a8,qspec-a8
[ "$(left)" -ge 130 ] && junit || echo "skipped junit" | tee -a "$S"
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt junit/*.txt 2>/dev/null
