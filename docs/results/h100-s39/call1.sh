#!/usr/bin/env bash
# Session 39, call 1. The library: the decode tiles' merge with each row's factors worked out once (by thread r, into
# shared memory) instead of by every thread for its own dim, the same arithmetic in the same order (KERNELS.md Next 3:
# the tiles' fixed cost on small grids). The baseline ($g/native/base): session 38's final library (from 2048 positions).
#  - `qspec_test attention` with both libraries: the same bits give the same lines;
#  - `qspec_bench attention` (decode and verify passes) with both: the tiles' cost on small grids;
#  - the JUnit GPU suite with the library's default (2048 positions; session 38's default, never run on a GPU);
#  - end to end, 1024-token prompts and 256 new tokens, batch 1 and 8: the default (the row kernels, below 2048) against
#    QSPEC_ATTENTION_DECODE_TILES_FROM=1024 (the tiles from the first decode token);
#  - the JUnit classes about the threshold (which follow it) with QSPEC_ATTENTION_DECODE_TILES_FROM=1024;
#  - end to end, 2560-token prompts (session 38's call 2, which never ran): the default against the row kernels;
#  - 64 new tokens (short contexts), the row kernels first this time (session 38 ran the default first and found the
#    same kernels 3-8 % apart).
# Run from the repository root after the staged tree is refreshed here (carry .device/gpu).
. scripts/device/call-prelude.sh 540
ab_tests attention
build_bench
qspec_bench_mode "bench attention" bench-attention.txt 60 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1
qspec_bench_mode "bench attention base" bench-attention-base.txt 60 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 \
  LD_LIBRARY_PATH="$(base_path)"
[ "$(left)" -gt 150 ] && junit
prompts() {  # prompts NAME TOKENS [VAR=value ...]: TOKENS-token prompts, 256 new tokens, batch 1 and 8
  [ "$(left)" -lt 70 ] && { echo "skipped $1" | tee -a "$S"; return; }
  local name=$1 tokens=$2 t0=$(date +%s); shift 2
  env OUT=$OUT/$name "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8 --prompt-tokens "$tokens" --max-tokens 256 --modes w4a16,qspec-a8 -- 2>&1 \
    | grep -E '^(w4|qspec|bench rc)' | sed "s/^/$name /" | tee -a "$S"
  echo "$name ($*) $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
prompts p1024-default 1024
prompts p1024-from1024 1024 QSPEC_ATTENTION_DECODE_TILES_FROM=1024
if [ "$(left)" -gt 200 ]; then
  echo "junit, the threshold's classes, from 1024:" | tee -a "$S"
  env OUT=$OUT/junit-from1024 QSPEC_ATTENTION_DECODE_TILES_FROM=1024 \
    QSPEC_JUNIT_SELECT="--select-class io.qspec.cuda.DecodeTilesGpuTest --select-class io.qspec.cuda.CudaModelRunnerGpuTest" \
    bash scripts/device/run.sh tests 2>&1 | grep -E "junit rc|tests (successful|failed|aborted)|✘|decode tiles test" \
    | head -20 | tee -a "$S"
fi
prompts p2560-rows 2560 QSPEC_ATTENTION_DECODE_TILES=0
prompts p2560-default 2560
E2E_NEED=40 e2e short-rows 1,8,32 w4a16,qspec-a8 QSPEC_ATTENTION_DECODE_TILES=0
E2E_NEED=40 e2e short-default 1,8,32 w4a16,qspec-a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz p1024-* p2560-* short-* test-*.txt junit junit-from1024 bench-*.txt 2>/dev/null
rm -rf p1024-* p2560-* short-* junit junit-from1024 bench-build.txt; ls
