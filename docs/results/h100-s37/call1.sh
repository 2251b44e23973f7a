#!/usr/bin/env bash
# Session 37, call 1. The library of this session (main 10de22e's kernels, plus the decode tiles of
# native/src/attention_decode_tiles.cuh, off unless QSPEC_ATTENTION_DECODE_TILES is set; built for sm_90a here) against
# main before session 36 (c9057c0) in .device/gpu/native/base/:
#  - session 36's unrun call 3: `qspec_test attention` with each (lines diffed, the decode tiles' own lines aside),
#    `qspec_bench attention` of each, alternating; end to end with 4096-token prompts and 256 new tokens (W4A16);
#  - the decode tiles: their tests (in `qspec_test attention`), `qspec_bench attention` with them on (split and
#    sequential schedules), the JUnit DecodeTilesGpuTest with them on (QSpec = W4A16 tokens and batching invariance
#    on a random model of Llama's head size and grouping), and end to end (W4A16 and QSpec-A8) with them on.
. scripts/device/call-prelude.sh 540
run_test attention 60 attention
run_test attention-base 60 attention LD_LIBRARY_PATH="$(base_path)"
echo "test lines differing from the baseline's (decode tiles aside): $(diff <(grep -v -e '^device' -e 'decode tiles' "$OUT/test-attention.txt") \
  <(grep -v -e '^device' -e 'decode tiles' "$OUT/test-attention-base.txt") | grep -c '^[<>]')" | tee -a "$S"
grep 'decode tiles' "$OUT/test-attention.txt" | grep -vc '^PASS' | sed 's/^/decode tiles lines not PASS: /' | tee -a "$S"
build_bench
for r in 1 2; do
  qspec_bench_mode "bench new$r" bench-new$r.txt 120 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1
  qspec_bench_mode "bench base$r" bench-base$r.txt 120 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 LD_LIBRARY_PATH="$(base_path)"
  qspec_bench_mode "bench tiles$r" bench-tiles$r.txt 120 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 QSPEC_ATTENTION_DECODE_TILES=1
done
qspec_bench_mode "bench tiles-seq" bench-tiles-seq.txt 120 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 QSPEC_ATTENTION_DECODE_TILES=seq
export QSPEC_ATTENTION_DECODE_TILES=1 QSPEC_JUNIT_SELECT="--select-class io.qspec.cuda.DecodeTilesGpuTest"
junit
unset QSPEC_ATTENTION_DECODE_TILES QSPEC_JUNIT_SELECT
e2e_context long-new w4a16
e2e_context long-base w4a16 base
export QSPEC_ATTENTION_DECODE_TILES=1
e2e_context long-tiles w4a16,qspec-a8
unset QSPEC_ATTENTION_DECODE_TILES
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf e2e.tgz long-* test-*.txt junit 2>/dev/null; rm -rf long-* test-*.txt junit; ls
