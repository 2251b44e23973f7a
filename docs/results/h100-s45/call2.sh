#!/usr/bin/env bash
# Session 45, call 2: call1.sh cut to what a short call holds, in order of need (most of the session's device time went
# to failed starts): `qspec_test rope`; one round of the end-to-end A/B (the epilogue, -Dqspec.cuda.fusedRopeKv=true,
# against the default), W4A16 and QSpec-A8 at batch 1 and 8; `qspec_bench epilogues` if time is left.
. scripts/device/call-prelude.sh "${BUDGET:-220}"
build_bench & build=$!
run_test rope 30 rope
e2e e2e-fused-a 1,8 w4a16,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.fusedRopeKv=true
e2e e2e-plain-a 1,8 w4a16,qspec-a8
wait $build; echo "bench build rc=$?" | tee -a "$S"
[ "$(left)" -gt 40 ] && qspec_bench_mode "bench epilogues" bench-epilogues.txt "$(( $(left) - 5 ))" "^rope_kv" epilogues
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz e2e-* test-*.txt bench-*.txt 2>/dev/null
rm -rf e2e-* bench-build.txt; ls
