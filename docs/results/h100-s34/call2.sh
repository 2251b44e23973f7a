#!/usr/bin/env bash
# Session 34, call 2: the prefill tiles (tensor-core attention for the tokens of a sequence with 64 or more in a pass,
# native/src/attention_tiles.cuh). (1) `qspec_test attention` (the new prefill-tile cases with the old ones);
# (2) `qspec_bench attention` (its prefill section: the row kernels against the tiles, through qspec_attention and
# qspec_attention_runs); (3) end to end with 2048-token prompts, W4A16 and QSpec-A8 at batch 1 and 4, tiles on and off
# (QSPEC_ATTENTION_PREFILL_TILES=0); (4) the JUnit GPU suite (PrefillTilesGpuTest is new).
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 560
run_test attention 120 attention
build_bench
attention_bench attention
e2e_long tiles 1,4 w4a16,qspec-a8
e2e_long rows 1,4 w4a16,qspec-a8 QSPEC_ATTENTION_PREFILL_TILES=0
junit
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf e2e.tgz tiles rows junit 2>/dev/null; rm -rf tiles rows junit; ls
