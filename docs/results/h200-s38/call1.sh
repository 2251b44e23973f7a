#!/usr/bin/env bash
# Session 38, call 1: the decode tiles on by default (tokens of 1024 positions or more) and qspec_attention_pass (ABI
# 11: the caller's context bounds, so that a pass on one side of the threshold launches one kind of kernel).
#  - `qspec_test attention` (the row kernels' checks with the tiles off, the tiles' with the default, =1, =all);
#  - `qspec_bench attention` (decode and verify passes): row kernels, the default with the bounds (the runner's call),
#    the default without them, the tiles for every token;
#  - the JUnit GPU suite with the default (DecodeTilesGpuTest's prompts of 1015 and 1030 tokens cross the threshold,
#    CudaModelRunnerGpuTest's verify passes straddle it);
#  - end to end: 4096-token prompts and 256 new tokens, the default against QSPEC_ATTENTION_DECODE_TILES=0 (the row
#    kernels, session 37's default); 64 new tokens (short contexts) both ways; 1536-token prompts at batch 1 both ways.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 480
run_test attention 60 attention
build_bench
qspec_bench_mode "bench attention" bench-attention.txt 150 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1
[ "$(left)" -gt 200 ] && junit
e2e_context long-default w4a16,qspec-a8
export QSPEC_ATTENTION_DECODE_TILES=0
e2e_context long-rows w4a16,qspec-a8
unset QSPEC_ATTENTION_DECODE_TILES
mid() {  # mid NAME [VAR=value ...]: 1536-token prompts, 256 new tokens, batch 1
  [ "$(left)" -lt 50 ] && { echo "skipped $1" | tee -a "$S"; return; }
  local name=$1 t0=$(date +%s); shift
  env OUT=$OUT/$name "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1 --prompt-tokens 1536 --max-tokens 256 --modes w4a16,qspec-a8 -- 2>&1 \
    | grep -E '^(w4|qspec|bench rc)' | sed "s/^/$name /" | tee -a "$S"
  echo "$name $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
mid mid-default
mid mid-rows QSPEC_ATTENTION_DECODE_TILES=0
E2E_NEED=40 e2e short-default 1,8,32 w4a16,qspec-a8
E2E_NEED=40 e2e short-rows 1,8,32 w4a16,qspec-a8 QSPEC_ATTENTION_DECODE_TILES=0
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz short-* mid-* long-* test-*.txt junit bench-*.txt 2>/dev/null; rm -rf short-* mid-* long-* junit bench-build.txt; ls
