#!/usr/bin/env bash
# Session 27, call 3: call 2 trimmed to the device time left after six failed starts (399 s). Four token tiles in the
# bulk-copy GEMVs at M = 17-32 (QSPEC_BULK_M32, off by default): (1) `qspec_test bulk` with them taken wherever they
# can run; (2) the quick GEMM table at M = 17, 24, 32, off against on; (3) end to end at batch 32, W4A16 and QSpec-A8
# (the draft at M = 32), off against on. Run from the repository root after the native stage here (carry .device/gpu).
. scripts/device/call-prelude.sh 220
build_bench &
build=$!
run_test bulk-m32 100 bulk QSPEC_BULK_M32=all
wait $build; echo "bench build rc=$?" | tee -a "$S"
if grep -q "^ALL PASSED" "$OUT/test-bulk-m32.txt"; then
  bench m32-off QSPEC_BULK_M32=0
  bench m32-all QSPEC_BULK_M32=all
  E2E_NEED=30 e2e e2e-off 32 w4a16,qspec-a8 QSPEC_BULK_M32=0
  E2E_NEED=30 e2e e2e-all 32 w4a16,qspec-a8 QSPEC_BULK_M32=all
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
