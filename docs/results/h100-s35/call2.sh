#!/usr/bin/env bash
# Session 35, call 2: the attention's block-table entries of a split copied into shared memory once, where every chunk
# of every build used to wait on a global load of its entry before it could load K and V (call 1: three chunks in
# flight a warp gained nothing, so something else chained the chunks). Against call 1's library as the baseline (its
# default path is session 34's), in the same call: (1) `qspec_test attention` (new library); (2) `qspec_bench
# attention`, decode and verify passes, new library then baseline; (3) end to end with 4096-token prompts and 256 new
# tokens, W4A16 and QSpec-A8 at batch 1 and 8, new library then baseline.
# Run from the repository root after scripts/device/stage.sh here and the native rebuild (carry .device/gpu; the new
# library gzipped at native/, the baseline at native/base/).
for f in .device/gpu/native/libqspec_cuda.so.gz .device/gpu/native/base/libqspec_cuda.so.gz; do
  [ -f "$f" ] && gunzip -f "$f"
done
. scripts/device/call-prelude.sh 320
run_test attention 60 attention
build_bench
attention_bench attention-table QSPEC_BENCH_DECODE_ONLY=1
attention_bench attention-base QSPEC_BENCH_DECODE_ONLY=1 LD_LIBRARY_PATH=$g/native/base:$LD_LIBRARY_PATH
rm -rf /tmp/base && cp -r "$g" /tmp/base && cp "$g/native/base/libqspec_cuda.so" /tmp/base/native/libqspec_cuda.so
long() {  # long NAME [VAR=value ...]
  local name=$1; shift
  [ "$(left)" -lt 60 ] && { echo "skipped $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env OUT=$OUT/$name "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8 --prompt-tokens 4096 --max-tokens 256 --modes w4a16,qspec-a8 -- 2>&1 \
    | grep -E '^(w4|qspec|bench rc)' | sed "s/^/$name /" | tee -a "$S"
  echo "$name ($*) $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
long long-table
long long-base QSPEC_STAGE=/tmp/base
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf e2e.tgz long-* 2>/dev/null; rm -rf long-*; ls
