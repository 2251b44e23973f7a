#!/usr/bin/env bash
# Session 41, call 3: call 2 cut to what little device time was left (the starts that got no machine spent the rest).
# The library of ab9646b (the one-token tile on by default, the tiles from 512 positions, their split length a setting).
#  - `qspec_test attention` with the new defaults and four cases with each of the splits of 128 and 64;
#  - `qspec_bench attention` with the tiles' splits of 256 (the default), 128 and 64;
#  - the threshold's JUnit classes with the new default, if time is left;
#  - 512-token prompts at batch 1 and 8 (256 new tokens), the tiles from 1024 against the new default, if time is left.
. scripts/device/call-prelude.sh "${BUDGET:-200}"
run_test attention 30 attention
build_bench
split_benches 25 128,512,1024,2048,8192
[ "$(left)" -gt 40 ] && junit_classes junit "io.qspec.cuda.DecodeTilesGpuTest io.qspec.cuda.CudaModelRunnerGpuTest"
E2E_NEED=50 e2e_prompts p512-from1024 512 1,8 QSPEC_ATTENTION_DECODE_TILES_FROM=1024
E2E_NEED=50 e2e_prompts p512-default 512 1,8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz p512-* junit bench-build.txt 2>/dev/null; rm -rf p512-* junit bench-build.txt; ls
