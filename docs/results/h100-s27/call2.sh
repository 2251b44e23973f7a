#!/usr/bin/env bash
# Session 27, call 2 (call 1, session 26's next-query-tiles.sh with the QSpec row, never ran: the machine stopped
# answering). Four token tiles in the bulk-copy GEMVs at M = 17-32 (QSPEC_BULK_M32, written this session, off by
# default): (1) `qspec_test bulk` with them taken wherever they can run (the new M = 17-32 cases against float64
# references, the bits of M = 17 and 32 against M = 256); (2) the quick GEMM table at M = 17, 24, 32: off, on with two
# row tiles, on with four on the wide matrices (QSPEC_BULK_M32_ROWS=64, whose builds spill); (3) end to end at batch
# 24 and 32, W4A16, W4A8 and QSpec-A8 (the draft at M = 24-32), off against on; (4) while time is left, `qspec_test
# attention` and `qspec_bench attention` (the query tiles' third layout, written in session 26 and not yet run).
# (5) on an H100, the QSpec-A8 row with the final defaults (session 26 ran it with the query tiles on).
# Run from the repository root after the native stage here (carry .device/gpu).
. scripts/device/call-prelude.sh 420
build_bench &
build=$!
run_test bulk-m32 120 bulk QSPEC_BULK_M32=all
wait $build; echo "bench build rc=$?" | tee -a "$S"
ok=$(grep -q "^ALL PASSED" "$OUT/test-bulk-m32.txt" && echo 0 || echo 1)
if [ "$ok" = 0 ]; then
  bench m32-off QSPEC_BULK_M32=0
  bench m32-all QSPEC_BULK_M32=all
  bench m32-rows64 QSPEC_BULK_M32=all QSPEC_BULK_M32_ROWS=64
fi
if [ "$ok" = 0 ]; then
  e2e e2e-off 24,32 w4a16,w4a8,qspec-a8 QSPEC_BULK_M32=0
  e2e e2e-all 24,32 w4a16,w4a8,qspec-a8 QSPEC_BULK_M32=all
fi
# the issue's QSpec-A8 row with the final defaults, on the H100 only (session 26's ran with the query tiles on)
grep -q H100 "$S" && e2e table-qspec 1,8,16,32 qspec-a8 QSPEC_X=0
run_test attention 30 attention
[ "$(left)" -gt 100 ] && grep -q "^ALL PASSED" "$OUT/test-attention.txt" && attention_bench attention QSPEC_X=0
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
