#!/usr/bin/env bash
# Session 33, call 2: the norm head, its weights now copied once the head's first loads have landed (call 1: copied at
# once, the loads waited behind them and the head cost what the norm kernel did). As call 1, plus `qspec_test bulk`:
# the norm head (each CTA of W4A16's q|k|v, gate|up and lm_head GEMVs normalises its own input at
# M <= 4; ABI 10). (1) `qspec_test heads` (the fused calls against qspec_rmsnorm_f16 + the GEMM, bit for bit, and
# float64) and `qspec_test epilogues` (the epilogues' builds beside the new ones); (2) `qspec_bench heads`: norm kernel +
# GEMV against the one launch, M = 1-4, weights from HBM; (3) end to end, W4A16 and QSpec-A8 at batch 1 and 8 with the
# head (the default) and without (-Dqspec.cuda.normHead=false), twice each, interleaved.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 570
run_test heads 60 heads
run_test epilogues 60 epilogues
run_test bulk 90 bulk
build_bench
heads_bench heads
heads_bench heads-2
E2E_NEED=60 e2e head 1,8 w4a16,qspec-a8
E2E_NEED=60 e2e nohead 1,8 w4a16,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.normHead=false
E2E_NEED=60 e2e head-2 1,8 w4a16,qspec-a8
E2E_NEED=60 e2e nohead-2 1,8 w4a16,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.normHead=false
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && rm -rf head nohead head-2 nohead-2 && ls
