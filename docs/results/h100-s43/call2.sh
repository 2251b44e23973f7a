#!/usr/bin/env bash
# Session 43, call 2: the issue's tables with the current library (cb11d88's kernels), in one call on one GPU:
#  - the end-to-end table, every point three times round-robin (W16A16, W4A16, W4A8, QSpec-A8, QSpec-A4 at
#    batch 1 / 8 / 16 / 32, 64 new tokens, the synthetic alpha = 0.9); the last full one was session 32's (W16A16 26's);
#  - the full kernel benchmark (issue 5's GEMM targets at Llama-3-8B shapes, M = 1-256); the last was session 24's;
#  - the JUnit GPU suite (QSpec = W4A16 on both shared models, A8 and A4 drafts; GPU against CPU parity);
#  - the full `qspec_test` (every kernel against float64 on random data); the last full run was session 32's.
. scripts/device/call-prelude.sh "${BUDGET:-540}"
build_bench & build=$!
E2E_REPEATS=3 E2E_NEED=120 e2e table 1,8,16,32 w16a16,w4a16,w4a8,qspec-a8,qspec-a4
wait $build; echo "bench build rc=$?" | tee -a "$S"
if [ "$(left)" -ge 40 ]; then
  t0=$(date +%s); timeout -s KILL 120 /tmp/qspec_bench > "$OUT/native-bench.txt" 2>&1
  echo "full kernel benchmark rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
fi
if [ "$(left)" -ge 150 ]; then junit; else echo "skipped junit" | tee -a "$S"; fi
run_test all 220 ""
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz table junit 2>/dev/null; rm -rf table junit bench-build.txt; ls
