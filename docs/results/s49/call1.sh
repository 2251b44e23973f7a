#!/usr/bin/env bash
# Session 49, call 1 (prepared; no GPU was lent in session 49): the two warpgroup GEMMs without their feeding passes,
# both opt-in and bit-preserving (docs/KERNELS.md, "Weights from registers" and "Tokens in MMA order"):
#  - the draft's weights as the A operand from registers (w4ax_wgmma_rf_kernel, QSPEC_WGMMA_DRAFT_RF=1; =ahead unpacks
#    each step's fragments while the step before multiplies, at 128 tokens);
#  - the verify's tokens permuted into MMA order before the call, so that its MMAs read the copied boxes
#    (QSPEC_WGMMA_VERIFY_DIRECT=1).
#  =noperm in either skips the permutation kernel (wrong results: timing only).
# In order: their bits (qspec_test draft and verify with them; their lines must equal the defaults'), the quick GEMM
# table at 64-256 tokens (the default first and last; one table has both experiments: the draft's rows show the one,
# W4A16's the other), end to end at batch 16-64 with both against the default (only if the tests passed: W4A16 decode
# at 16-64 tokens, QSpec-A8's verify passes of 64-256 and drafts of 64), then the tests with the kernels at every M.
# Stage with scripts/device/stage.sh (or the partial restage of KERNELS.md, "One device call, budgeted"), carry
# .device/gpu, run `BUDGET=570 bash docs/results/s49/call1.sh` (timeout_s 600; the tests at every M go last, as time allows).
. scripts/device/call-prelude.sh "${BUDGET:-570}"
build_bench
test_capped() {  # NAME SECONDS GROUP [VAR=value ...]: run_test capped at SECONDS (a hang must not take the call)
  local name=$1 cap=$2 group=$3; shift 3
  local t0=$(date +%s)
  env "$@" timeout -s KILL "$cap" "$g/native/build/qspec_test" $group > "$OUT/test-$name.txt" 2>&1; local r=$?
  { echo "qspec_test $name ($*) rc=$r: $(grep -c ^PASS "$OUT/test-$name.txt") PASS, $(( $(date +%s) - t0 )) s"
    grep -v ^PASS "$OUT/test-$name.txt" | head -8; } | tee -a "$S"
}
same_lines() {  # A B: how many lines of two test logs differ (the same bits give the same lines)
  [ -f "$OUT/test-$1.txt" ] && [ -f "$OUT/test-$2.txt" ] && echo "test lines differing, $1 against $2: $(diff \
    <(grep -v '^device' "$OUT/test-$1.txt") <(grep -v '^device' "$OUT/test-$2.txt") | grep -c '^[<>]')" | tee -a "$S"
}
test_capped draft-rf 100 draft QSPEC_WGMMA_DRAFT_RF=1
test_capped verify-direct 100 verify QSPEC_WGMMA_VERIFY_DIRECT=1
export MS=64,128,256 BENCH_NEED=20 BENCH_TIMEOUT=60
bench default-a
bench exp QSPEC_WGMMA_DRAFT_RF=1 QSPEC_WGMMA_VERIFY_DIRECT=1
bench exp-noperm QSPEC_WGMMA_DRAFT_RF=noperm QSPEC_WGMMA_VERIFY_DIRECT=noperm
bench rf-ahead QSPEC_WGMMA_DRAFT_RF=ahead
[ "$(left)" -gt 100 ] && test_capped draft-default 100 draft
same_lines draft-rf draft-default
[ "$(left)" -gt 100 ] && test_capped verify-default 100 verify
same_lines verify-direct verify-default
if grep -q "draft-rf (.*) rc=0" "$S" && grep -q "verify-direct (.*) rc=0" "$S"; then
  e2e e2e-exp 16,32,64 w4a16,qspec-a8 QSPEC_WGMMA_DRAFT_RF=1 QSPEC_WGMMA_VERIFY_DIRECT=1
  e2e e2e-default 16,32,64 w4a16,qspec-a8
fi
bench exp-nopp QSPEC_WGMMA_DRAFT_RF=1 QSPEC_WGMMA_VERIFY_DIRECT=1 QSPEC_WGMMA_PINGPONG=0
bench default-b
[ "$(left)" -gt 80 ] && test_capped draft-rf-ahead 100 draft QSPEC_WGMMA_DRAFT_RF=ahead
[ "$(left)" -gt 80 ] && test_capped draft-rf-all 100 draft QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_DRAFT_RF=1
[ "$(left)" -gt 80 ] && test_capped verify-direct-all 100 verify QSPEC_WGMMA_VERIFY=all QSPEC_WGMMA_VERIFY_DIRECT=1
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz bench-*.txt test-*.txt e2e-*; rm -rf bench-*.txt test-*.txt e2e-*; ls
