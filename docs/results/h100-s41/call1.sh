#!/usr/bin/env bash
# (Session 40's docs/results/h100-s40/call1.sh, run unchanged as session 41's call 1 on an H100.)
# Session 40, call 1. The library: session 39's (the decode tiles from 1024 positions by default; that constant never
# ran on a GPU, since session 39's call 2 could not start), plus the one-token tile (QSPEC_ATTENTION_DECODE_TILES_ONE=1,
# off by default: a decode group's MMAs with K as the A operand, written to give the 16-row tile's bits).
#  - `mma_operands`: whether mma.sync (m16n8k16 and m16n8k8, fp16 in, fp32 sums) gives the same bits with its operands
#    swapped, on general fp16 data (what the one-token tile's bits rest on);
#  - `qspec_test attention`: the new default (its default case straddles 1024), and the one-token tile's cases (each
#    token alone and "a token a group" against the runs' 16-row tiles, bit for bit);
#  - the JUnit classes about the threshold (they follow it): DecodeTilesGpuTest, CudaModelRunnerGpuTest; then the same
#    with the one-token tile (QSpec = W4A16 tokens across it);
#  - `qspec_bench attention` at 128-8192 positions with the one-token tile's columns;
#  - batch 1, 1024-token prompts and 256 new tokens, W4A16 and QSpec-A8: tiles from 2048, the default (1024), and the
#    default with the one-token tile, alternated twice;
#  - if time is left, the end-to-end table (64 new tokens, batch 1/8/16/32) with the bench's new column, the
#    decode rate of a full batch.
# Run from the repository root after the staged tree is refreshed here (carry .device/gpu).
. scripts/device/call-prelude.sh 540
{ echo "mma_operands:"; timeout -s KILL 60 "$g/native/build/mma_operands"; echo "rc=$?"; } 2>&1 | tee -a "$S"
run_test attention 30 attention
build_bench
qspec_bench_mode "bench attention" bench-attention.txt 90 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 \
  QSPEC_BENCH_CONTEXTS=128,256,512,1024,2048,8192
classes="--select-class io.qspec.cuda.DecodeTilesGpuTest --select-class io.qspec.cuda.CudaModelRunnerGpuTest"
for one in "" 1; do
  [ "$(left)" -lt 200 ] && { echo "skipped junit one=$one" | tee -a "$S"; continue; }
  echo "junit, the threshold's classes, the default, one-token tile '$one':" | tee -a "$S"
  env OUT=$OUT/junit$one QSPEC_ATTENTION_DECODE_TILES_ONE=$one QSPEC_JUNIT_SELECT="$classes" \
    bash scripts/device/run.sh tests 2>&1 | grep -E "junit rc|tests (successful|failed|aborted)|✘|decode tiles test" \
    | head -20 | tee -a "$S"
done
for r in a b; do
  E2E_NEED=40 e2e_prompts b1-from2048-$r 1024 1 QSPEC_ATTENTION_DECODE_TILES_FROM=2048
  E2E_NEED=40 e2e_prompts b1-default-$r 1024 1
  E2E_NEED=40 e2e_prompts b1-one-$r 1024 1 QSPEC_ATTENTION_DECODE_TILES_ONE=1
done
E2E_NEED=100 e2e table 1,8,16,32 w4a16,w4a8,qspec-a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz b1-* table test-*.txt junit* bench-*.txt 2>/dev/null; rm -rf b1-* table junit* bench-build.txt; ls
