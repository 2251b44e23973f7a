#!/usr/bin/env bash
# Session 26, call 1 (written in session 25): four row tiles for both GEMMs' two-token-tile GEMVs on
# matrices of at most 8192 rows whose two-row-tile grid has more CTAs than SMs (QSPEC_BULK_M16_ROWS64=1: the stacked
# q|k|v at M = 9-16, 96 CTAs instead of W4A16's 192 and instead of the draft's warp-split kernel). `qspec_test bulk`
# with it (bits against the other kernels; the group takes ~70 s), the GEMVs at M = 8-16 with and without it, twice,
# interleaved, then end to end: W4A16 and W4A8 at batch 12/16 and QSpec-A8 at batch 4 (verify passes of 16 tokens). Run from the repository root after scripts/device/stage.sh
# here (carry .device/gpu); the summary is $OUT/summary.txt.
. scripts/device/call-prelude.sh 420  # start, budget, g, OUT, S, left, build_bench, run_test, bench, e2e
build_bench &
build=$!
run_test bulk-rows64 120 bulk QSPEC_BULK_M16_ROWS64=1
ok=$(grep -q "^ALL PASSED" "$OUT/test-bulk-rows64.txt" && echo 0 || echo 1)
wait $build; echo "bench build rc=$?" | tee -a "$S"
if [ "$ok" = 0 ]; then
  export MS=8,9,12,16 BENCH_NEED=25 BENCH_TIMEOUT=60 QSPEC_BENCH_SHAPES=q+k+v,q/o
  for i in 1 2; do
    bench default-$i QSPEC_X=0
    bench rows64-$i QSPEC_BULK_M16_ROWS64=1
  done
  unset MS QSPEC_BENCH_SHAPES
  for i in 1 2; do
    e2e rows64-$i 12,16 w4a16,w4a8 QSPEC_BULK_M16_ROWS64=1
    e2e rule-$i 12,16 w4a16,w4a8 QSPEC_X=0
    e2e q4-rows64-$i 4 qspec-a8 QSPEC_BULK_M16_ROWS64=1
    e2e q4-rule-$i 4 qspec-a8 QSPEC_X=0
  done
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
