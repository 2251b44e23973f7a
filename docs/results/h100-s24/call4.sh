#!/usr/bin/env bash
# Session 24, device call 4 (written for an H100; short, the session's last device time): this session's two rules
# as defaults, tested and measured against the rules before them in the same call: the draft's warpgroup grid
# (QSPEC_WGMMA_DRAFT_GRID=0 is the rule before: q/o at M = 65-128 split in 4, down at M = 224-256 on 64-token
# tiles) and the K split of W4A16's bulk GEMVs (QSPEC_BULK_SPLIT=0: never; the rule splits down at M >= 12).
# Steps skipped once fewer than their seconds are left of BUDGET (default 200); the summary is $OUT/summary.txt.
. scripts/device/call-prelude.sh 200  # start, budget, g, OUT, S, left, build_bench
build_bench &
build=$!
timeout -s KILL 100 "$g/native/build/qspec_test" draft > "$OUT/test-draft.txt" 2>&1
echo "qspec_test draft (defaults) rc=$?: $(grep -c ^PASS "$OUT/test-draft.txt") PASS" | tee -a "$S"
grep -v ^PASS "$OUT/test-draft.txt" | head -6 | tee -a "$S"
wait $build; echo "bench build rc=$?" | tee -a "$S"
bench() {  # NAME [VAR=value ...]: the quick GEMM table at MS tokens, W4A16 and draft rows to the summary
  local name=$1; shift
  [ "$(left)" -lt 15 ] && { echo "skipped bench $name" | tee -a "$S"; return; }
  env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=$MS "$@" timeout -s KILL 40 /tmp/qspec_bench > "$OUT/bench-$name.txt" 2>&1
  echo "bench $name ($*) rc=$?" | tee -a "$S"
  grep -E '^csv,[^,]+,[0-9]+,[0-9]+,[0-9]+,(w4a16|w4a8),' "$OUT/bench-$name.txt" | cut -d, -f2,5,6,7 | tr '\n' ' ' >> "$S"; echo >> "$S"
}
for i in 1 2; do
  MS=64,96,128,224,256 bench grid-new-$i QSPEC_BENCH_SHAPES=q/o,down QSPEC_X=0
  MS=64,96,128,224,256 bench grid-old-$i QSPEC_BENCH_SHAPES=q/o,down QSPEC_WGMMA_DRAFT_GRID=0
done
MS=10,12,14,16 bench split-rule QSPEC_BENCH_SHAPES=down QSPEC_X=0
MS=10,12,14,16 bench split-off QSPEC_BENCH_SHAPES=down QSPEC_BULK_SPLIT=0
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt 2>/dev/null
