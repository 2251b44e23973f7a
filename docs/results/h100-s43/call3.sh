#!/usr/bin/env bash
# Session 43, call 3: eight warps a block for the decode tiles (QSPEC_ATTENTION_DECODE_TILES_WARPS=8, new; 4 by
# default). Call 1 found one sequence's tiles at 512-2048 positions bound by a warp's chained steps (a step of two
# chunks about 1.6 us, one warp a scheduler), so twice the warps a block walk a split in half the steps. The library:
# this session's working tree (sm_90a), the baseline (base/) session 41's cb11d88 as staged. In order of need:
#  - `qspec_test attention` with both libraries: the default's bits unchanged (the lines differ only in the cases run
#    with 8 warps, which the baseline does not know), and every check with 8 warps;
#  - `qspec_bench attention` (decode and verify passes at 128-8192 positions), 4 warps against 8, twice, interleaved;
#  - the threshold's JUnit classes with 8 warps (QSpec's tokens = W4A16's across the threshold);
#  - 512-token prompts at batch 1 and 8 (256 new tokens), 4 warps against 8, twice, interleaved.
. scripts/device/call-prelude.sh "${BUDGET:-420}"
build_bench & build=$!
run_test attention 30 attention
run_test attention-base 30 attention LD_LIBRARY_PATH="$(base_path)"
echo "test lines differing from the baseline's, the 8-warp cases left out: $(diff \
  <(grep -v -e '^device' -e 'warps 8' "$OUT/test-attention.txt") \
  <(grep -v -e '^device' -e 'warps 8' "$OUT/test-attention-base.txt") | grep -c '^[<>]')" | tee -a "$S"
wait $build; echo "bench build rc=$?" | tee -a "$S"
for r in a b; do
  for w in 4 8; do
    [ "$(left)" -lt 30 ] && break
    qspec_bench_mode "bench attention, $w warps ($r)" bench-attention-w$w-$r.txt 30 "^attn," attention \
      QSPEC_BENCH_DECODE_ONLY=1 QSPEC_BENCH_CONTEXTS=128,256,512,1024,2048,8192 QSPEC_ATTENTION_DECODE_TILES_WARPS=$w
  done
done
[ "$(left)" -gt 60 ] && junit_classes junit-w8 "io.qspec.cuda.DecodeTilesGpuTest io.qspec.cuda.CudaModelRunnerGpuTest" \
  QSPEC_ATTENTION_DECODE_TILES_WARPS=8
for r in a b; do
  E2E_NEED=45 e2e_prompts p512-w4-$r 512 1,8
  E2E_NEED=45 e2e_prompts p512-w8-$r 512 1,8 QSPEC_ATTENTION_DECODE_TILES_WARPS=8
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz p512-* junit-w8 bench-attention-*.txt test-attention-base.txt 2>/dev/null
rm -rf p512-* junit-w8 bench-build.txt bench-attention-*.txt test-attention-base.txt; ls
