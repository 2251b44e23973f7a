#!/usr/bin/env bash
# Session 24, device call 4 (written for an H100; short, the session's last device time): this session's two rules
# as defaults, tested and measured against the rules before them in the same call: the draft's warpgroup grid
# (QSPEC_WGMMA_DRAFT_GRID=0 is the rule before: q/o at M = 65-128 split in 4, down at M = 224-256 on 64-token
# tiles) and the K split of W4A16's bulk GEMVs (QSPEC_BULK_SPLIT=0: never; the rule splits down at M >= 12).
# Steps skipped once fewer than their seconds are left of BUDGET (default 200); the summary is $OUT/summary.txt.
. scripts/device/call-prelude.sh 200  # start, budget, g, OUT, S, left, build_bench, run_test, bench
export BENCH_NEED=15 BENCH_TIMEOUT=40  # bench: skipped below BENCH_NEED s left, each run capped at BENCH_TIMEOUT s
build_bench &
build=$!
run_test draft 0 draft
wait $build; echo "bench build rc=$?" | tee -a "$S"
for i in 1 2; do
  MS=64,96,128,224,256 bench grid-new-$i QSPEC_BENCH_SHAPES=q/o,down QSPEC_X=0
  MS=64,96,128,224,256 bench grid-old-$i QSPEC_BENCH_SHAPES=q/o,down QSPEC_WGMMA_DRAFT_GRID=0
done
MS=10,12,14,16 bench split-rule QSPEC_BENCH_SHAPES=down QSPEC_X=0
MS=10,12,14,16 bench split-off QSPEC_BENCH_SHAPES=down QSPEC_BULK_SPLIT=0
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt 2>/dev/null
