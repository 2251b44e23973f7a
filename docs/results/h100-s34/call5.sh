#!/usr/bin/env bash
# Session 34, call 5: the prefill tiles with two stages (call 4) and a build of three blocks per SM
# (QSPEC_ATTENTION_TILES_BLOCKS=3). (1) `qspec_test attention`; (2) `qspec_bench attention`, prefill passes only;
# (3) end to end with 2048-token prompts, W4A16 and QSpec-A8 at batch 1 and 4: tiles, tiles of three blocks per SM,
# rows (QSPEC_ATTENTION_PREFILL_TILES=0); (4) the JUnit GPU suite.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 540
run_test attention 120 attention
build_bench
attention_bench attention-prefill QSPEC_BENCH_PREFILL_ONLY=1
e2e_long tiles 1,4 w4a16,qspec-a8
e2e_long tiles3 1,4 w4a16,qspec-a8 QSPEC_ATTENTION_TILES_BLOCKS=3
e2e_long rows 1,4 w4a16,qspec-a8 QSPEC_ATTENTION_PREFILL_TILES=0
junit
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf e2e.tgz tiles tiles3 rows junit 2>/dev/null; rm -rf tiles tiles3 rows junit; ls
