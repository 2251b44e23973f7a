#!/usr/bin/env bash
# Session 39, call 2: the decode tiles from 1024 positions by default (call 1: with the merge factors worked out once a
# row, 1024 against 2048 gave batch 8 +7.6 % (W4A16) and +18 % (QSpec-A8) with 1024-token prompts, batch 1 -3.4 % and
# -1.8 % in one run each, order not alternated).
#  - `qspec_test attention` with the new default (its default case now straddles 1024);
#  - the JUnit classes about the threshold (they follow it): DecodeTilesGpuTest, CudaModelRunnerGpuTest;
#  - batch 1 only, 1024-token prompts and 256 new tokens, W4A16 and QSpec-A8: 2048 and the default (1024) alternated,
#    twice, to separate the threshold's batch-1 cost from the order and run-to-run spread (call 1's 64-token runs put
#    two runs of the same kernels 6 % apart).
# Run from the repository root after the staged tree is refreshed here (carry .device/gpu).
# Not run: the device tool had too little time left to start a machine after call 1 (the starts before it that got none
# spent most of the session's 30 minutes).
. scripts/device/call-prelude.sh 300
run_test attention 30 attention
echo "junit, the threshold's classes, the default:" | tee -a "$S"
env OUT=$OUT/junit QSPEC_JUNIT_SELECT="--select-class io.qspec.cuda.DecodeTilesGpuTest --select-class io.qspec.cuda.CudaModelRunnerGpuTest" \
  bash scripts/device/run.sh tests 2>&1 | grep -E "junit rc|tests (successful|failed|aborted)|✘|decode tiles test" \
  | head -20 | tee -a "$S"
E2E_NEED=40 e2e_prompts b1-from2048-a 1024 1 QSPEC_ATTENTION_DECODE_TILES_FROM=2048
E2E_NEED=40 e2e_prompts b1-default-a 1024 1
E2E_NEED=40 e2e_prompts b1-from2048-b 1024 1 QSPEC_ATTENTION_DECODE_TILES_FROM=2048
E2E_NEED=40 e2e_prompts b1-default-b 1024 1
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz b1-* test-*.txt junit 2>/dev/null; rm -rf b1-* junit; ls
