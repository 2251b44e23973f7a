#!/usr/bin/env bash
# Session 25, device call 2 (H100), on a tree staged with the shared token copies (QSPEC_BULK_MULTICAST, off by
# default): (1) `qspec_test bulk` with QSPEC_BULK_MULTICAST=all (bits against the other kernels); (2) the bulk GEMVs at
# M = 4, 8, 9, 12 and 16 on q+k+v, q/o, down and k/v under every choice: the defaults, the shared token copies, the
# cluster kernel (QSPEC_BULK_M16=0), the K split everywhere (QSPEC_BULK_SPLIT=all), a ring of 3; (3) end to end, twice,
# interleaved: W4A16 and W4A8 at batch 8/12/16 with the defaults, without the K split (QSPEC_BULK_SPLIT=0) and with
# the shared token copies (=all), and QSpec-A8 at batch 4 (verify passes of 16 tokens) with and without them; W4A8 at batch 128/256 with and without session 24's draft grid rule
# (QSPEC_WGMMA_DRAFT_GRID=0). Between (2) and (3): `qspec_test attention` and `qspec_bench attention` with
# QSPEC_ATTENTION_SPLIT_TILES=0 and the new default (per token). Run from the repository root after
# scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 540  # start, budget, g, OUT, S, left, build_bench, run_test, bench, e2e
build_bench &
build=$!
t0=$(date +%s)  # (as run_test, under a shorter cap: a cluster that deadlocks would hang it)
QSPEC_BULK_MULTICAST=all timeout -s KILL 60 "$g/native/build/qspec_test" bulk > "$OUT/test-bulk-mc.txt" 2>&1
echo "qspec_test bulk (QSPEC_BULK_MULTICAST=all) rc=$?: $(grep -c ^PASS "$OUT/test-bulk-mc.txt") PASS, $(( $(date +%s) - t0 )) s" \
  | tee -a "$S"
grep -v ^PASS "$OUT/test-bulk-mc.txt" | head -6 | tee -a "$S"
mc_ok=$(grep -q "^ALL PASSED" "$OUT/test-bulk-mc.txt" && echo 0 || echo 1)
wait $build; echo "bench build rc=$?" | tee -a "$S"
export MS=4,8,9,12,16 BENCH_NEED=25 BENCH_TIMEOUT=60 QSPEC_BENCH_SHAPES=q+k+v,q/o,down,k/v
bench m16-default QSPEC_X=0
[ "$mc_ok" = 0 ] && bench m16-mc QSPEC_BULK_MULTICAST=all
bench m16-cluster QSPEC_BULK_M16=0
bench m16-split QSPEC_BULK_SPLIT=all
bench m16-ring3 QSPEC_BULK_RING=3
bench m16-default-2 QSPEC_X=0
[ "$mc_ok" = 0 ] && bench m16-mc-2 QSPEC_BULK_MULTICAST=all
unset MS QSPEC_BENCH_SHAPES
# attention: the per-token head tiles in the split schedule, now the default (blocks renumbered so that the tiles'
# first heads launch first), against one head a block
run_test attention 30 attention
for st in 0 default; do
  [ "$(left)" -lt 150 ] && { echo "skipped attention bench $st" | tee -a "$S"; continue; }
  env QSPEC_ATTENTION_SPLIT_TILES=$st timeout -s KILL 60 /tmp/qspec_bench attention > "$OUT/attention-$st.txt" 2>&1
  echo "attention (QSPEC_ATTENTION_SPLIT_TILES=$st) rc=$?" | tee -a "$S"
  grep -E '^attn,[0-9]' "$OUT/attention-$st.txt" | cut -d, -f2-5 | tr '\n' ' ' >> "$S"; echo >> "$S"
done
for i in 1 2; do
  e2e rule-$i 8,12,16 w4a16,w4a8 QSPEC_X=0
  [ "$mc_ok" = 0 ] && e2e mc-$i 8,12,16 w4a16,w4a8 QSPEC_BULK_MULTICAST=all
  e2e q4-rule-$i 4 qspec-a8 QSPEC_X=0
  [ "$mc_ok" = 0 ] && e2e q4-mc-$i 4 qspec-a8 QSPEC_BULK_MULTICAST=all
  e2e grid-rule-$i 128,256 w4a8 QSPEC_X=0
  e2e grid-old-$i 128,256 w4a8 QSPEC_WGMMA_DRAFT_GRID=0
  e2e split-off-$i 12,16 w4a16,w4a8 QSPEC_BULK_SPLIT=0
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
