#!/usr/bin/env bash
# Session 42, call 1: session 41's call 2 cut to what failed starts left of the device time, in order of need. The
# library of cb11d88 (the one-token tile on by default, the decode tiles from 512 positions, their split a setting):
#  - `qspec_test attention` (the default case straddles 512; four cases each with splits of 128 and 64);
#  - 512-token prompts at batch 1 and 8 (256 new tokens): the tiles from 1024 (session 39's rule) against the new
#    default, the threshold's first end-to-end run;
#  - `qspec_bench attention` with the tiles' splits of 256 (the default), 128 and 64;
#  - the threshold's JUnit classes with the new default;
#  - if time is left: a second pair of 512-token runs, the other way round, and one with splits of 128.
. scripts/device/call-prelude.sh "${BUDGET:-300}"
run_test attention 30 attention
E2E_NEED=45 e2e_prompts p512-from1024-a 512 1,8 QSPEC_ATTENTION_DECODE_TILES_FROM=1024
E2E_NEED=45 e2e_prompts p512-default-a 512 1,8
build_bench
split_benches 25 128,512,1024,2048,8192
[ "$(left)" -gt 45 ] && junit_classes junit "io.qspec.cuda.DecodeTilesGpuTest io.qspec.cuda.CudaModelRunnerGpuTest"
E2E_NEED=45 e2e_prompts p512-default-b 512 1,8
E2E_NEED=45 e2e_prompts p512-from1024-b 512 1,8 QSPEC_ATTENTION_DECODE_TILES_FROM=1024
E2E_NEED=45 e2e_prompts p512-split128 512 1,8 QSPEC_ATTENTION_DECODE_TILES_SPLIT=128
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz p512-* junit bench-build.txt 2>/dev/null; rm -rf p512-* junit bench-build.txt; ls
