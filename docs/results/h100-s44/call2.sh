#!/usr/bin/env bash
# Session 44, call 2: call 1's one-token walk, plus the same two changes in the 16-row tile's walk (verify runs): two
# chunks a turn with the two sets of loads trading roles, and the first chunk's loads issued before Q's. The library of
# this session's working tree (sm_90a) against main's 0b7349c beside it ($g/native/base). In order of need:
#  - `qspec_test attention` with both libraries: the same lines (the same bits);
#  - `qspec_bench attention` (decode and verify passes, 128-8192 positions), new against base, twice, interleaved;
#  - the threshold's JUnit classes with the new library (QSpec's tokens = W4A16's across the threshold);
#  - 4096-token prompts at batch 1 and 8 (256 new tokens), W4A16 and QSpec-A8, new against base, twice, interleaved.
. scripts/device/call-prelude.sh "${BUDGET:-480}"
build_bench & build=$!
ab_tests attention
wait $build; echo "bench build rc=$?" | tee -a "$S"
ab_attention_benches 128,512,1024,2048,8192
[ "$(left)" -gt 200 ] && junit_classes junit-threshold "io.qspec.cuda.DecodeTilesGpuTest io.qspec.cuda.CudaModelRunnerGpuTest"
for r in a b; do
  e2e_context p4096-new-$r w4a16,qspec-a8
  e2e_context p4096-base-$r w4a16,qspec-a8 base
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz p4096-* junit-threshold bench-attention-*.txt 2>/dev/null
rm -rf p4096-* junit-threshold bench-build.txt bench-attention-*.txt; ls
