#!/usr/bin/env bash
# Session 36, call 3: as call 2, with the plain build reading q as main does (a pointer into shared memory, not an array:
# call 2 lost 7-10 % on large grids at long contexts, where the per-token four-head kernel had grown 72 -> 80 registers).
# The library in .device/gpu/native, main's (c9057c0) in .device/gpu/native/base/. `qspec_test attention` with each
# (lines diffed), `qspec_bench attention` twice each, alternating (every cell); end to end with 4096-token prompts and
# 256 new tokens (W4A16, batch 1 and 8) with each if time is left (5.6 minutes of device time were left for the call).
for f in .device/gpu/native/libqspec_cuda.so.gz .device/gpu/native/base/libqspec_cuda.so.gz; do
  [ -f "$f" ] && gunzip -f "$f"
done
. scripts/device/call-prelude.sh 230
run_test attention 30 attention
run_test attention-base 30 attention LD_LIBRARY_PATH=$g/native/base:$LD_LIBRARY_PATH
echo "test lines differing from the baseline's: $(diff <(grep -v '^device' "$OUT/test-attention.txt") <(grep -v '^device' "$OUT/test-attention-base.txt") | grep -c '^[<>]')" | tee -a "$S"
build_bench
for r in 1 2; do
  qspec_bench_mode "bench new$r" bench-new$r.txt 120 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1
  qspec_bench_mode "bench base$r" bench-base$r.txt 120 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 LD_LIBRARY_PATH=$g/native/base:$LD_LIBRARY_PATH
done
long() {  # long NAME MODES
  local name=$1 modes=$2
  [ "$(left)" -lt 70 ] && { echo "skipped $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env OUT=$OUT/$name bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8 --prompt-tokens 4096 --max-tokens 256 --modes "$modes" -- 2>&1 \
    | grep -E '^(w4|qspec|bench rc)' | sed "s/^/$name /" | tee -a "$S"
  echo "$name $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
long long-new w4a16
cp "$g/native/libqspec_cuda.so" /tmp/new.so && cp "$g/native/base/libqspec_cuda.so" "$g/native/libqspec_cuda.so"
long long-base w4a16
cp /tmp/new.so "$g/native/libqspec_cuda.so"
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf e2e.tgz long-* junit test-*.txt 2>/dev/null; rm -rf long-* junit test-*.txt; ls
