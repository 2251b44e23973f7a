#!/usr/bin/env bash
# Session 45, call 1: RoPE and the KV write in the q|k|v GEMV's epilogue (ABI 12), on the staged tree of this session
# (scripts/device/stage.sh). In order of need:
#  - `qspec_test rope`: the fused calls against the GEMM + qspec_rope_write_kv, bit for bit, and float64; also with the
#    bulk GEMVs on every matrix (QSPEC_BULK_GEMV=all: the small shapes take the epilogue too);
#  - `qspec_bench epilogues`: the two launches against the fused call, q|k|v of Llama-3-8B at M = 1-8;
#  - end to end, the epilogue (-Dqspec.cuda.fusedRopeKv=true) against the default, W4A16 and QSpec-A8 at batch 1 and 8,
#    two rounds interleaved;
#  - the JUnit GPU classes the change touches, with the epilogue on (the runner's bits with and without it, the shared models' QSpec = W4A16
#    and GPU-CPU parity, which the half-split model's interleaved q and k rows reach);
#  - `qspec_test bulk` (every bulk GEMV case, the epilogues' included).
. scripts/device/call-prelude.sh "${BUDGET:-420}"
build_bench & build=$!
run_test rope 30 rope
run_test rope-all-bulk 30 rope QSPEC_BULK_GEMV=all
wait $build; echo "bench build rc=$?" | tee -a "$S"
qspec_bench_mode "bench epilogues" bench-epilogues.txt 120 "^rope_kv|^swiglu," epilogues
for r in a b; do
  e2e e2e-fused-$r 1,8 w4a16,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.fusedRopeKv=true
  e2e e2e-plain-$r 1,8 w4a16,qspec-a8
done
[ "$(left)" -gt 120 ] && junit_classes junit-runner "io.qspec.cuda.CudaModelRunnerGpuTest io.qspec.cuda.SharedModelsGpuTest" JAVA_TOOL_OPTIONS=-Dqspec.cuda.fusedRopeKv=true
run_test bulk 100 bulk
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz e2e-* junit-* test-*.txt bench-*.txt 2>/dev/null
rm -rf e2e-* junit-* bench-build.txt test-bulk.txt; ls
