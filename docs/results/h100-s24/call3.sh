#!/usr/bin/env bash
# Session 24, device call 3 (written for an H100): the K split's default rule (W4A16 bulk GEMVs split K over a
# cluster of two at M > 8 where K >= 8192: down at M = 9-16) tested (`qspec_test bulk`) and measured against
# QSPEC_BULK_SPLIT=0; then the draft's warpgroup kernel at M = 64, 128 and 256 with each token-tile width and K split
# forced (QSPEC_WGMMA_BN, QSPEC_WGMMA_SPLIT), against its rule, for the draft-vs-W4A16 target at M = 256.
# Steps skipped once fewer than their seconds are left of BUDGET (default 480); the summary ($OUT/summary.txt)
# is appended as it goes. Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 480  # start, budget, g, OUT, S, left, build_bench
build_bench &
build=$!
timeout -s KILL 150 "$g/native/build/qspec_test" bulk > "$OUT/test-bulk.txt" 2>&1
echo "qspec_test bulk (defaults) rc=$?: $(grep -c ^PASS "$OUT/test-bulk.txt") PASS" | tee -a "$S"
grep -v ^PASS "$OUT/test-bulk.txt" | head -6 | tee -a "$S"
wait $build; echo "bench build rc=$?" | tee -a "$S"
bench() {  # NAME [VAR=value ...]: the quick GEMM table at MS tokens, W4A16 and draft rows to the summary
  local name=$1; shift
  [ "$(left)" -lt 25 ] && { echo "skipped bench $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=$MS "$@" timeout -s KILL 60 /tmp/qspec_bench > "$OUT/bench-$name.txt" 2>&1
  echo "bench $name ($*) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -E '^csv,[^,]+,[0-9]+,[0-9]+,[0-9]+,(w4a16|w4a8),' "$OUT/bench-$name.txt" | cut -d, -f2,5,6,7 | tr '\n' ' ' >> "$S"; echo >> "$S"
}
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
