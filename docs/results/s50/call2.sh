#!/usr/bin/env bash
# Session 50, call 2: session 49's two builds of the warpgroup GEMMs on by rule (rf_of in w4ax_wgmma.cu, direct_of in
# w4a16_wgmma.cu), their permuted tokens now in a per-call TokenScratch (stream-ordered allocation from the library's
# pool: an allocation node inside a captured graph) instead of session 49's shared experiment buffer. In order of need:
#  - the kernel tests under the rule (their lines must equal call 1's default lines: the same bits);
#  - the JUnit GPU suite (the runner's graphs now hold the scratch's allocation and free nodes);
#  - the quick GEMM table at 48-256 tokens, the rule against both builds off (RF=0, DIRECT=0), alternated;
#  - end to end at batch 1-64, W4A16 and QSpec-A8, the rule against both off, alternated;
#  - the tests with the kernels at every M, as time allows.
# Stage with scripts/device/stage.sh (or the partial restage of KERNELS.md), carry .device/gpu, run
# `BUDGET=540 bash docs/results/s50/call2.sh` (timeout_s 600).
. scripts/device/call-prelude.sh "${BUDGET:-540}"
build_bench & build=$!
run_test draft 100 draft
run_test verify 100 verify
junit
wait $build; echo "bench build rc=$?" | tee -a "$S"
export MS=48,64,96,128,192,256 BENCH_NEED=30 BENCH_TIMEOUT=60
OFF="QSPEC_WGMMA_DRAFT_RF=0 QSPEC_WGMMA_VERIFY_DIRECT=0"
bench rule-a
bench off-a $OFF
bench rule-b
bench off-b $OFF
e2e e2e-rule-a 1,8,16,32,64 w4a16,qspec-a8
e2e e2e-off-a 1,8,16,32,64 w4a16,qspec-a8 $OFF
e2e e2e-rule-b 1,8,16,32,64 w4a16,qspec-a8
e2e e2e-off-b 1,8,16,32,64 w4a16,qspec-a8 $OFF
[ "$(left)" -gt 80 ] && run_test draft-all 80 draft QSPEC_WGMMA_DRAFT=all
[ "$(left)" -gt 80 ] && run_test verify-all 80 verify QSPEC_WGMMA_VERIFY=all
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz bench-*.txt test-*.txt e2e-* junit 2>/dev/null; rm -rf bench-*.txt test-*.txt e2e-* junit; ls
