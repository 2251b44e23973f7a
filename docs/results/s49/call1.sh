#!/usr/bin/env bash
# Session 49, call 1 (prepared; no GPU was lent in session 49): the draft's warpgroup kernel with the weights as the A
# operand from registers (w4ax_wgmma_rf_kernel, QSPEC_WGMMA_DRAFT_RF=1, off by default; =ahead unpacks each step's
# fragments while the step before multiplies, at 128 tokens; =noperm skips the tokens' permutation, timing only): its
# bits (qspec_test draft with it, and with the default, whose lines must match), then the quick GEMM table at 64-256
# tokens against the default, the default first and last. Stage with scripts/device/stage.sh (or the partial restage
# of KERNELS.md, "One device call, budgeted"), carry .device/gpu, run `BUDGET=300 bash docs/results/s49/call1.sh`.
. scripts/device/call-prelude.sh "${BUDGET:-300}"
build_bench
test_capped() {  # NAME SECONDS GROUP [VAR=value ...]: run_test capped at SECONDS (a hang must not take the call)
  local name=$1 cap=$2 group=$3; shift 3
  local t0=$(date +%s)
  env "$@" timeout -s KILL "$cap" "$g/native/build/qspec_test" $group > "$OUT/test-$name.txt" 2>&1; local r=$?
  { echo "qspec_test $name ($*) rc=$r: $(grep -c ^PASS "$OUT/test-$name.txt") PASS, $(( $(date +%s) - t0 )) s"
    grep -v ^PASS "$OUT/test-$name.txt" | head -8; } | tee -a "$S"
}
test_capped draft-rf 100 draft QSPEC_WGMMA_DRAFT_RF=1
export MS=64,128,256 BENCH_NEED=20 BENCH_TIMEOUT=60
bench default-a
bench rf QSPEC_WGMMA_DRAFT_RF=1
bench rf-ahead QSPEC_WGMMA_DRAFT_RF=ahead
bench rf-noperm QSPEC_WGMMA_DRAFT_RF=noperm
[ "$(left)" -gt 70 ] && test_capped draft-default 100 draft
[ -f "$OUT/test-draft-default.txt" ] && echo "draft test lines differing, rf against default: $(diff \
  <(grep -v '^device' "$OUT/test-draft-rf.txt") <(grep -v '^device' "$OUT/test-draft-default.txt") | grep -c '^[<>]')" | tee -a "$S"
bench rf-nopp QSPEC_WGMMA_DRAFT_RF=1 QSPEC_WGMMA_PINGPONG=0
bench default-b
[ "$(left)" -gt 70 ] && test_capped draft-rf-ahead 100 draft QSPEC_WGMMA_DRAFT_RF=ahead
[ "$(left)" -gt 70 ] && test_capped draft-rf-all 100 draft QSPEC_WGMMA_DRAFT=all QSPEC_WGMMA_DRAFT_RF=1
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz bench-*.txt test-*.txt; rm -rf bench-*.txt test-*.txt; ls
