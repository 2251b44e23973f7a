#!/usr/bin/env bash
# Session 35, call 1: the staged build of the attention's row kernels (chunks copied by cp.async through a ring of 4
# slots in shared memory, three ahead of the one computed; QSPEC_ATTENTION_STAGED=1 forces it, the rule is off).
# (1) `qspec_test attention` (the staged build against the others, bit for bit); (2) `qspec_bench attention`, decode and
# verify passes: default, staged by the per-token tiles rule, staged with every token tiled, staged untiled, unstaged;
# (3) end to end with 4096-token prompts and 256 new tokens (decode at long contexts), batch 1 and 8, staged and not:
# W4A16 and QSpec-A8; (4) the JUnit GPU suite with the staged build everywhere it applies.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 450
run_test attention 120 attention
run_test attention-staged 60 attention QSPEC_ATTENTION_STAGED=1
build_bench
attention_bench attention-decode QSPEC_BENCH_DECODE_ONLY=1
long() {  # long NAME MODES [VAR=value ...]
  local name=$1 modes=$2; shift 2
  [ "$(left)" -lt 70 ] && { echo "skipped $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env OUT=$OUT/$name "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8 --prompt-tokens 4096 --max-tokens 256 --modes "$modes" -- 2>&1 \
    | grep -E '^(w4|qspec|bench rc)' | sed "s/^/$name /" | tee -a "$S"
  echo "$name ($*) $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
long long-unstaged w4a16,qspec-a8 QSPEC_ATTENTION_STAGED=0
long long-staged w4a16,qspec-a8 QSPEC_ATTENTION_STAGED=1
QSPEC_ATTENTION_STAGED=1 junit
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf e2e.tgz long-* junit 2>/dev/null; rm -rf long-* junit; ls
