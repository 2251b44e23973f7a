#!/usr/bin/env bash
# Session 24, device call 1 (written for an H100): session 23's defaults tested (the full kernel test), the K split
# of the W4A16 bulk GEMVs over a cluster of two tested (QSPEC_BULK_SPLIT=all, off by default, never run before);
# the full kernel benchmark with the defaults (the H100 table of issue 5); kernel A/Bs: the K split on q/o and down at
# M = 1-16, and session 23's verify rules for small grids (QSPEC_WGMMA_VERIFY_SMALL_GRIDS=0 is session 22's rule) at
# M = 17-64, each pair run twice, interleaved; then the JUnit GPU suite.
# Steps in order of need, each skipped once fewer than its seconds are left of BUDGET (default 560); everything is
# appended to $OUT/summary.txt, which comes back even if the call is cut off.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 560  # start, budget, g, OUT, S, left, build_bench, run_test, bench
build_bench &  # built in the background while the tests run
build=$!
run_test split 60 bulk QSPEC_BULK_SPLIT=all     # the K split wherever a W4A16 bulk GEMV runs
run_test all 220 ""                             # the defaults, every case
wait $build; echo "bench build rc=$?" | tee -a "$S"; tail -3 "$OUT/bench-build.txt"
if [ "$(left)" -ge 60 ]; then
  t0=$(date +%s); timeout -s KILL 120 /tmp/qspec_bench > "$OUT/native-bench.txt" 2>&1
  echo "full kernel benchmark rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"; grep -v ^csv "$OUT/native-bench.txt" | head -12 >> "$S"
fi
QO="QSPEC_BENCH_SHAPES=q/o,down"
for i in 1 2; do
  MS=1,2,4,5,8,12,16 bench split0-$i $QO QSPEC_X=0
  MS=1,2,4,5,8,12,16 bench split1-$i $QO QSPEC_BULK_SPLIT=1
done
for i in 1 2; do
  MS=17,24,32,40,48,64 bench small-grids-$i QSPEC_X=0
  MS=17,24,32,40,48,64 bench s22-rule-$i QSPEC_WGMMA_VERIFY_SMALL_GRIDS=0
done
# the JUnit GPU suite (QSpec = W4A16 on both shared models, GPU against CPU parity) with the defaults
if [ "$(left)" -ge 150 ]; then
  env OUT=$OUT/junit bash scripts/device/run.sh tests 2>&1 | grep -E "junit rc|tests (successful|failed|aborted)" | tee -a "$S"
else echo "skipped junit" | tee -a "$S"; fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt junit/*.txt 2>/dev/null
