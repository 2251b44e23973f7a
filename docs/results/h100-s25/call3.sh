#!/usr/bin/env bash
# Session 25, device call 3 (H100), on call 2's staged tree: the shared token copies (QSPEC_BULK_MULTICAST) again.
# Call 2 capped their `qspec_test bulk` at 60 s, and the group takes longer (its float64 references): every case run
# passed, the multicast ones included, when the cap cut it. So: (1) `qspec_test bulk` with QSPEC_BULK_MULTICAST=all under
# a 200 s cap, line-buffered; if it passes, (2) the GEMVs at M = 4-16 on q+k+v, q/o and down with and without them,
# twice, interleaved, and (3) end to end, interleaved: W4A16 and W4A8 at batch 8/12/16, QSpec-A8 at batch 4 (verify
# passes of 16 tokens). Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 500  # start, budget, g, OUT, S, left, build_bench, run_test, bench, e2e
build_bench &
build=$!
t0=$(date +%s)
buf=(); command -v stdbuf > /dev/null && buf=(stdbuf -oL)
QSPEC_BULK_MULTICAST=all timeout -s KILL 200 "${buf[@]}" "$g/native/build/qspec_test" bulk > "$OUT/test-bulk-mc.txt" 2>&1
echo "qspec_test bulk (QSPEC_BULK_MULTICAST=all) rc=$?: $(grep -c ^PASS "$OUT/test-bulk-mc.txt") PASS, $(( $(date +%s) - t0 )) s" \
  | tee -a "$S"
grep -v ^PASS "$OUT/test-bulk-mc.txt" | head -6 | tee -a "$S"
tail -1 "$OUT/test-bulk-mc.txt" | cut -c1-100 | tee -a "$S"
mc_ok=$(grep -q "^ALL PASSED" "$OUT/test-bulk-mc.txt" && echo 0 || echo 1)
wait $build; echo "bench build rc=$?" | tee -a "$S"
if [ "$mc_ok" = 0 ]; then
  export MS=4,8,9,12,16 BENCH_NEED=25 BENCH_TIMEOUT=60 QSPEC_BENCH_SHAPES=q+k+v,q/o,down
  for i in 1 2; do
    bench default-$i QSPEC_X=0
    bench mc-$i QSPEC_BULK_MULTICAST=all
    bench mc1-$i QSPEC_BULK_MULTICAST=1
  done
  unset MS QSPEC_BENCH_SHAPES
  for i in 1 2; do
    e2e mc-$i 8,12,16 w4a16,w4a8 QSPEC_BULK_MULTICAST=all
    e2e rule-$i 8,12,16 w4a16,w4a8 QSPEC_X=0
    e2e q4-mc-$i 4 qspec-a8 QSPEC_BULK_MULTICAST=all
    e2e q4-rule-$i 4 qspec-a8 QSPEC_X=0
  done
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
