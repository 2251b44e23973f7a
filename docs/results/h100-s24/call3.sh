#!/usr/bin/env bash
# Session 24, device call 3 (written for an H100): the K split's default rule (W4A16 bulk GEMVs split K over a
# cluster of two at M > 8 where K >= 8192: down at M = 9-16) tested (`qspec_test bulk`) and measured against
# QSPEC_BULK_SPLIT=0; then the draft's warpgroup kernel at M = 64, 128 and 256 with each token-tile width and K split
# forced (QSPEC_WGMMA_BN, QSPEC_WGMMA_SPLIT), against its rule, for the draft-vs-W4A16 target at M = 256.
# Steps skipped once fewer than their seconds are left of BUDGET (default 480); the summary ($OUT/summary.txt)
# is appended as it goes. Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 480  # start, budget, g, OUT, S, left, build_bench, run_test, bench
export BENCH_NEED=25 BENCH_TIMEOUT=60  # bench: skipped below BENCH_NEED s left, each run capped at BENCH_TIMEOUT s
build_bench &
build=$!
run_test bulk 0 bulk
wait $build; echo "bench build rc=$?" | tee -a "$S"
MS=9,12,16 bench split-rule QSPEC_BENCH_SHAPES=q/o,down QSPEC_X=0
MS=9,12,16 bench split-off QSPEC_BENCH_SHAPES=q/o,down QSPEC_BULK_SPLIT=0
MS=64,128,256
bench draft-rule QSPEC_X=0
for cfg in "128 1" "128 2" "64 1" "64 2" "64 4" "32 1" "32 2" "128 4" "128 7" "64 7"; do
  set -- $cfg
  bench "draft-bn$1-split$2" QSPEC_WGMMA_BN=$1 QSPEC_WGMMA_SPLIT=$2
done
bench draft-rule-2 QSPEC_X=0
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt 2>/dev/null
