#!/usr/bin/env bash
# Session 51, call 2: the GEMMs' token orders (ABI 13). The norms, quantizers and SwiGLU write each GEMM's input in
# the order the GEMM reads (qspec_tokens_order), so the warpgroup builds that the rules take at 33-256 tokens lose the
# pass that permuted their tokens. In order of need:
#  - the kernel tests: `order` (new: every producer in MMA order, the GEMMs' bits against row order, refusals), then
#    `draft` and `verify` (their lines must equal session 50's: no kernel changed);
#  - the JUnit GPU suite (every binding changed; the new WIDE-model test of the token orders against row order);
#  - the quick GEMM table at 48-256 tokens, tokens as the runner writes them against row order
#    (QSPEC_BENCH_ORDER=row: the permuting pass as before), alternated;
#  - end to end at batch 16 / 32 / 64 (where passes reach 33 tokens: W4A16 at 64, QSpec's verify from 16), W4A16 and
#    QSpec-A8, token orders on against off (-Dqspec.cuda.tokenOrders=false), alternated;
#  - the end-to-end table (every mode at batch 1-32, three runs each) and the full kernel benchmark.
# Stage with scripts/device/stage.sh, carry .device/gpu, run `BUDGET=560 bash docs/results/s51/call2.sh` (timeout_s 600).
. scripts/device/call-prelude.sh "${BUDGET:-560}"
build_bench & build=$!
run_test order 60 order
run_test draft 100 draft
run_test verify 100 verify
junit
wait $build; echo "bench build rc=$?" | tee -a "$S"
export MS=48,64,96,128,192,256 BENCH_NEED=30 BENCH_TIMEOUT=60
bench order-a
bench row-a QSPEC_BENCH_ORDER=row
bench order-b
bench row-b QSPEC_BENCH_ORDER=row
OFF="JAVA_TOOL_OPTIONS=-Dqspec.cuda.tokenOrders=false"
e2e e2e-on-a 16,32,64 w4a16,qspec-a8
e2e e2e-off-a 16,32,64 w4a16,qspec-a8 $OFF
e2e e2e-on-b 16,32,64 w4a16,qspec-a8
e2e e2e-off-b 16,32,64 w4a16,qspec-a8 $OFF
E2E_REPEATS=3 E2E_NEED=80 e2e table 1,8,16,32 w16a16,w4a16,w4a8,qspec-a8,qspec-a4
if [ "$(left)" -ge 20 ]; then
  t0=$(date +%s); timeout -s KILL "$(left)" /tmp/qspec_bench > "$OUT/native-bench.txt" 2>&1
  echo "full kernel benchmark rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
# (the archive is written outside $OUT, then moved in: tar reading the folder it writes to says "file changed")
cd "$OUT" && tar czf /tmp/all.tgz --exclude summary.txt --exclude native-bench.txt . && mv /tmp/all.tgz . && \
  find . -mindepth 1 -maxdepth 1 ! -name all.tgz ! -name summary.txt ! -name native-bench.txt -exec rm -rf {} +; ls
