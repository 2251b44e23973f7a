#!/usr/bin/env bash
# Session 38, call 2: the decode tiles' default threshold moved to 2048 positions (call 1: at 1536-1792 positions W4A16
# lost 5 % at batch 1 with 1024). `qspec_test attention` (the default case now straddles 2048); the JUnit classes whose
# prompts now cross 2048 (DecodeTilesGpuTest, CudaModelRunnerGpuTest); end to end with 2560-token prompts (contexts
# 2560-2816) and 256 new tokens, the default against the row kernels, batch 1 and 8. (The device time left after
# failed starts: 64 new tokens in the other order than call 1's, planned, were dropped.)
# Run from the repository root after the staged tree is refreshed here (carry .device/gpu).
. scripts/device/call-prelude.sh 245
run_test attention 30 attention
export QSPEC_JUNIT_SELECT="--select-class io.qspec.cuda.DecodeTilesGpuTest --select-class io.qspec.cuda.CudaModelRunnerGpuTest"
junit
unset QSPEC_JUNIT_SELECT
p2560() {  # p2560 NAME [VAR=value ...]: 2560-token prompts, 256 new tokens, batch 1 and 8
  [ "$(left)" -lt 100 ] && { echo "skipped $1" | tee -a "$S"; return; }
  local name=$1 t0=$(date +%s); shift
  env OUT=$OUT/$name "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8 --prompt-tokens 2560 --max-tokens 256 --modes w4a16,qspec-a8 -- 2>&1 \
    | grep -E '^(w4|qspec|bench rc)' | sed "s/^/$name /" | tee -a "$S"
  echo "$name $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
p2560 p2560-rows QSPEC_ATTENTION_DECODE_TILES=0
p2560 p2560-default
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz p2560-* test-*.txt junit 2>/dev/null; rm -rf p2560-* junit; ls
