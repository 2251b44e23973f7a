#!/usr/bin/env bash
# Session 40, call 1. The library: session 39's final one (the decode tiles from 1024 positions by default; that
# constant never ran on a GPU, since session 39's call 2 could not start).
#  - `mma_operands`: whether mma.sync (m16n8k16 and m16n8k8, fp16 in, fp32 sums) gives the same bits with its operands
#    swapped, on general fp16 data (the prerequisite of a one-token decode tile with K as the A operand, KERNELS.md
#    Next 3);
#  - `qspec_test attention` with the new default (its default case straddles 1024);
#  - the JUnit classes about the threshold (they follow it): DecodeTilesGpuTest, CudaModelRunnerGpuTest;
#  - `qspec_bench attention` at contexts 256-1024 (decode and verify passes): where each pass's break-even lies;
#  - batch 1 only, 1024-token prompts and 256 new tokens, W4A16 and QSpec-A8: 2048 and the default (1024) alternated,
#    twice (session 39's call 2, which never ran);
#  - if time is left, the end-to-end table (64 new tokens, batch 1/8/16/32) with the bench's new column, the
#    decode rate of a full batch (prefill, queue and the run's drain left out).
# Run from the repository root after the staged tree is refreshed here (carry .device/gpu).
. scripts/device/call-prelude.sh 540
{ echo "mma_operands:"; timeout -s KILL 60 "$g/native/build/mma_operands"; echo "rc=$?"; } 2>&1 | tee -a "$S"
run_test attention 30 attention
echo "junit, the threshold's classes, the default:" | tee -a "$S"
env OUT=$OUT/junit QSPEC_JUNIT_SELECT="--select-class io.qspec.cuda.DecodeTilesGpuTest --select-class io.qspec.cuda.CudaModelRunnerGpuTest" \
  bash scripts/device/run.sh tests 2>&1 | grep -E "junit rc|tests (successful|failed|aborted)|✘|decode tiles test" \
  | head -20 | tee -a "$S"
build_bench
qspec_bench_mode "bench attention" bench-attention.txt 60 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 \
  QSPEC_BENCH_CONTEXTS=256,384,512,768,1024
E2E_NEED=40 e2e_prompts b1-from2048-a 1024 1 QSPEC_ATTENTION_DECODE_TILES_FROM=2048
E2E_NEED=40 e2e_prompts b1-default-a 1024 1
E2E_NEED=40 e2e_prompts b1-from2048-b 1024 1 QSPEC_ATTENTION_DECODE_TILES_FROM=2048
E2E_NEED=40 e2e_prompts b1-default-b 1024 1
E2E_NEED=100 e2e table 1,8,16,32 w4a16,w4a8,qspec-a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz b1-* table test-*.txt junit bench-*.txt 2>/dev/null; rm -rf b1-* table junit bench-build.txt; ls
