#!/usr/bin/env bash
# Session 37, call 3: the decode tiles by position (QSPEC_ATTENTION_DECODE_TILES=1: tokens of 1024 positions or more on
# the tiles, the others on the row kernels; a token's kernel follows its own position, so its verify keeps its
# decode's bits), call 1's walk again and the epilogue rolled: `qspec_test attention`; `qspec_bench attention` by the
# rule; the JUnit DecodeTilesGpuTest with the threshold at 256 positions (its generations cross it); end to end at 64
# new tokens and with 4096-token prompts, the rule on and off.
. scripts/device/call-prelude.sh 290
run_test attention 40 attention
build_bench
qspec_bench_mode "bench tiles-from" bench-tiles-from.txt 60 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 QSPEC_ATTENTION_DECODE_TILES=1
export QSPEC_ATTENTION_DECODE_TILES=1 QSPEC_ATTENTION_DECODE_TILES_FROM=256 QSPEC_JUNIT_SELECT="--select-class io.qspec.cuda.DecodeTilesGpuTest"
junit
unset QSPEC_JUNIT_SELECT QSPEC_ATTENTION_DECODE_TILES_FROM
E2E_NEED=40 e2e short-from 1,8,32 w4a16,qspec-a8
e2e_context long-from w4a16,qspec-a8
unset QSPEC_ATTENTION_DECODE_TILES
e2e_context long-rows w4a16,qspec-a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz short-* long-* test-*.txt junit bench-*.txt 2>/dev/null; rm -rf short-* long-* test-*.txt junit bench-build.txt; ls
