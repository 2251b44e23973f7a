#!/usr/bin/env bash
# Session 43, call 3: eight warps a block for the decode tiles (QSPEC_ATTENTION_DECODE_TILES_WARPS=8, new; 4 by
# default). Call 1 found one sequence's tiles at 512-2048 positions bound by a warp's chained steps (a step of two
# chunks about 1.6 us, one warp a scheduler), so twice the warps a block walk a split in half the steps. The library:
# this session's working tree (sm_90a; a baseline library beside it took the tree past the tool's 64 MiB). In order of
# need:
#  - `qspec_test attention`: every check with 8 warps, and the default's bits unchanged (its lines before the first
#    8-warp case, compared here with call 1's test-attention.txt, the same cases with the same random data);
#  - `qspec_bench attention` (decode and verify passes at 128-8192 positions), 4 warps against 8, twice, interleaved;
#  - the threshold's JUnit classes with 8 warps (QSpec's tokens = W4A16's across the threshold);
#  - 512-token prompts at batch 1 and 8 (256 new tokens), 4 warps against 8, twice, interleaved.
. scripts/device/call-prelude.sh "${BUDGET:-420}"
build_bench & build=$!
run_test attention 30 attention
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
cd "$OUT" && tar czf all.tgz p512-* junit-w8 bench-attention-*.txt 2>/dev/null
rm -rf p512-* junit-w8 bench-build.txt bench-attention-*.txt; ls
