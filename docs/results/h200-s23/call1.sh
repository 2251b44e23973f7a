#!/usr/bin/env bash
# Session 23, device call 1 (written for an H100; ran on an H200, as no H100 could be started): session 22's defaults
# tested (the full kernel test and the JUnit GPU suite); this session's kept tokens in the bulk-copy GEMVs
# (QSPEC_BULK_KEEP=1) and the verify kernel's clusters of 4 and 2 tested; then quick kernel A/Bs: kept tokens against
# the default at M = 1-16 on the wide matrices, and the options the session-22 plan names (clusters of 4 / 2 at 17-32
# tokens, 32-token tiles at 33-64, turns off at 32-token tiles).
# Steps in order of need, each skipped once fewer than its seconds are left of BUDGET (default 540); everything is
# appended to $OUT/summary.txt, which comes back even if the call is cut off.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 540  # start, budget, g, OUT, S, left, build_bench, run_test, bench
export BENCH_NEED=45  # bench: skipped below 45 s left
build_bench &  # built in the background while the tests run
build=$!
run_test all 200 ""                                                                          # the defaults, every case
run_test keep 60 bulk QSPEC_BULK_KEEP=1                       # kept tokens wherever four row tiles walk
run_test keep-walk2 60 bulk QSPEC_BULK_KEEP=1 QSPEC_BULK_WALK=2  # ... and every walkable grid walking 2 tiles a CTA
run_test verify-split4 60 verify QSPEC_WGMMA_VERIFY=all QSPEC_WGMMA_VERIFY_BN=32 QSPEC_WGMMA_VERIFY_SPLIT=4
run_test verify-split2 60 verify QSPEC_WGMMA_VERIFY=all QSPEC_WGMMA_VERIFY_BN=32 QSPEC_WGMMA_VERIFY_SPLIT=2
run_test verify-bn32to64 60 verify QSPEC_WGMMA_VERIFY_BN32_MAX_M=64
wait $build; echo "bench build rc=$?" | tee -a "$S"; tail -3 "$OUT/bench-build.txt"
WIDE="QSPEC_BENCH_SHAPES=gate/up,lm_head,gate+up"
MS=1,2,4,8,9,12,16 bench small-default $WIDE QSPEC_X=0
MS=1,2,4,8,9,12,16 bench small-keep $WIDE QSPEC_BULK_KEEP=1
MS=17,24,32,40,48,64 bench default QSPEC_X=0
bench split4 QSPEC_WGMMA_VERIFY_SPLIT=4
bench split2 QSPEC_WGMMA_VERIFY_SPLIT=2
MS=40,48,64 bench bn32to64 QSPEC_WGMMA_VERIFY_BN32_MAX_M=64
bench turns-off QSPEC_WGMMA_PINGPONG=0
# the JUnit GPU suite (QSpec = W4A16 on both shared models, GPU against CPU parity) with the defaults
if [ "$(left)" -ge 150 ]; then
  env OUT=$OUT/junit bash scripts/device/run.sh tests 2>&1 | grep -E "junit rc|tests (successful|failed|aborted)" | tee -a "$S"
else echo "skipped junit" | tee -a "$S"; fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt junit/*.txt 2>/dev/null
