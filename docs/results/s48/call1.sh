#!/usr/bin/env bash
# Session 48, call 1: the verify GEMM's kept-token kernel (w4a16_wgmma_kept_kernel, QSPEC_WGMMA_VERIFY_KEEP=1, off by
# default): its bits (qspec_test verify with it wherever the warpgroup kernel runs, and at every M), then the quick GEMM
# table at 32-256 tokens against the default, with the default first and last; end to end at batch 8-64, W4A16 and
# QSpec-A8, with and without it; and session 47's rule (32-token tiles for q/o at 65-128 tokens, a9c5d14) against
# 64-token tiles there.
. scripts/device/call-prelude.sh "${BUDGET:-540}"
build_bench
# test NAME SECONDS GROUP [VAR=value ...]: as run_test, capped at SECONDS (a hang in a cluster barrier must not take the call)
test_capped() {
  local name=$1 cap=$2 group=$3; shift 3
  local t0=$(date +%s)
  env "$@" timeout -s KILL "$cap" "$g/native/build/qspec_test" $group > "$OUT/test-$name.txt" 2>&1; local r=$?
  { echo "qspec_test $name ($*) rc=$r: $(grep -c ^PASS "$OUT/test-$name.txt") PASS, $(( $(date +%s) - t0 )) s"
    grep -v ^PASS "$OUT/test-$name.txt" | head -8; } | tee -a "$S"
}
test_capped verify-keep 90 verify QSPEC_WGMMA_VERIFY_KEEP=1
export MS=32,48,64,96,128,256 BENCH_NEED=20 BENCH_TIMEOUT=60
bench default-a
bench keep QSPEC_WGMMA_VERIFY_KEEP=1
# end to end, W4A16 (decode at 8-64 tokens) and QSpec-A8 (verify passes of 32-256 tokens), only if the kept tokens kept
# the bits
if grep -q "rc=0" <(grep "verify-keep " "$S") && ! grep -q "^FAIL" "$OUT/test-verify-keep.txt"; then
  e2e e2e-keep 8,16,32,64 w4a16,qspec-a8 QSPEC_WGMMA_VERIFY_KEEP=1
  e2e e2e-default 8,16,32,64 w4a16,qspec-a8
fi
bench bn64 QSPEC_WGMMA_VERIFY_BN=64
[ "$(left)" -gt 60 ] && test_capped verify-default 90 verify
[ "$(left)" -gt 60 ] && test_capped verify-keep-all 90 verify QSPEC_WGMMA_VERIFY=all QSPEC_WGMMA_VERIFY_KEEP=1
bench keep-all QSPEC_WGMMA_VERIFY=all QSPEC_WGMMA_VERIFY_KEEP=1
bench default-b
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz bench-*.txt test-*.txt e2e-*; rm -rf bench-*.txt test-*.txt e2e-*; ls
