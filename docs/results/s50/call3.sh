#!/usr/bin/env bash
# Session 50, call 3: the issue's tables with the rules of call 2 (W4A16's tokens in MMA order now also off for q/o at
# up to 64 tokens, where call 2 measured them 2 % slower), in one call on one GPU:
#  - the full kernel benchmark (issue 5's GEMM targets at Llama-3-8B shapes, M = 1-256), the rules and both builds
#    off (the last full one was session 43's);
#  - the end-to-end table, every point three times round-robin (W16A16, W4A16, W4A8, QSpec-A8, QSpec-A4 at
#    batch 1 / 8 / 16 / 32, 64 new tokens, the synthetic alpha = 0.9); then W4A16 and QSpec-A8 at batch 64;
#  - the full `qspec_test` (every kernel against float64 on random data; the last full run was session 43's).
# Stage with scripts/device/stage.sh (or the partial restage of KERNELS.md), carry .device/gpu, run
# `BUDGET=240 bash docs/results/s50/call3.sh` (timeout_s 270; the full `qspec_test` only where 200 s are left after the tables).
. scripts/device/call-prelude.sh "${BUDGET:-480}"
build_bench & build=$!
E2E_REPEATS=3 E2E_NEED=120 e2e table 1,8,16,32 w16a16,w4a16,w4a8,qspec-a8,qspec-a4
wait $build; echo "bench build rc=$?" | tee -a "$S"
for arm in rule off; do
  vars=""; [ $arm = off ] && vars="QSPEC_WGMMA_DRAFT_RF=0 QSPEC_WGMMA_VERIFY_DIRECT=0"
  t0=$(date +%s); env $vars timeout -s KILL 60 /tmp/qspec_bench > "$OUT/native-bench-$arm.txt" 2>&1
  echo "full kernel benchmark, $arm ($vars) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
done
[ "$(left)" -ge 200 ] && run_test all 200 ""
E2E_REPEATS=3 e2e table64 64 w4a16,qspec-a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz table table64 test-*.txt 2>/dev/null; rm -rf table table64 test-*.txt bench-build.txt; ls
