#!/usr/bin/env bash
# Written in session 28 (no device: loans paused all session), from session 27's next.sh, not yet run. First the
# JUnit GPU suite: session 28 changed the Java side's CUDA calls (every copy is cudaMemcpyAsync on the runner's own
# non-blocking stream, the probe makes a test launch, sticky errors and out-of-memory growth are handled), tested
# only against the emulated runtime. If it fails, stop there: that is the session's first fix. Then session 27's
# plan, in order of what it decides:
# (1) `qspec_test bulk` with four token tiles at M = 17-32 taken wherever they can run (QSPEC_BULK_M32=all: the new
#     M = 17-32 cases against float64 references, the bits of M = 17 and 32 against M = 256);
# (2) the quick GEMM table at M = 17, 24, 32: off, on with two row tiles, on with four on the wide matrices and q|k|v
#     (QSPEC_BULK_M32_ROWS=64, whose builds spill);
# (3) end to end at batch 24 and 32, W4A16, W4A8 and QSpec-A8 (the draft at M = 24-32), off against on;
# (4) on an H100, the QSpec-A8 row with the final defaults (session 26 ran it with the query tiles on);
# (5) `qspec_test attention` and `qspec_bench attention`, default and QSPEC_ATTENTION_AHEAD=2 (session 26's query
#     tiles' third layout, in the runs columns, and two chunks in flight in the split schedule: written, not yet run).
# Then, if (2)-(3) make four token tiles a rule, set it in w4_bulk.cuh four_token_tiles and run `qspec_test bulk` by
# default. Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 560
junit
grep -Eq "(^|[^0-9])[1-9][0-9]* tests failed" "$S" && { echo "JUnit GPU suite failed: stopping" | tee -a "$S"; \
  cd "$OUT" && tar czf all.tgz --exclude all.tgz junit 2>/dev/null; exit 1; }
build_bench &
build=$!
run_test bulk-m32 120 bulk QSPEC_BULK_M32=all
wait $build; echo "bench build rc=$?" | tee -a "$S"
ok=$(grep -q "^ALL PASSED" "$OUT/test-bulk-m32.txt" && echo 0 || echo 1)
if [ "$ok" = 0 ]; then
  bench m32-off QSPEC_BULK_M32=0
  bench m32-all QSPEC_BULK_M32=all
  bench m32-rows64 QSPEC_BULK_M32=all QSPEC_BULK_M32_ROWS=64
  e2e e2e-off 24,32 w4a16,w4a8,qspec-a8 QSPEC_BULK_M32=0
  e2e e2e-all 24,32 w4a16,w4a8,qspec-a8 QSPEC_BULK_M32=all
fi
grep -q H100 "$S" && e2e table-qspec 1,8,16,32 qspec-a8 QSPEC_X=0
run_test attention 30 attention
if grep -q "^ALL PASSED" "$OUT/test-attention.txt"; then
  [ "$(left)" -gt 95 ] && attention_bench attention QSPEC_X=0
  [ "$(left)" -gt 95 ] && attention_bench attention-ahead2 QSPEC_ATTENTION_AHEAD=2
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
