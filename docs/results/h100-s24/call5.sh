#!/usr/bin/env bash
# Session 24, device call 5 (written for an H100; the session's last 268 s of device time): head tiles in the
# attention's split schedule (QSPEC_ATTENTION_SPLIT_TILES=all; written this session, off by default): `qspec_test
# attention` (it compares the tiled split schedule with the default bit for bit, in both loads builds), then
# `qspec_bench attention` without and with the switch.
. scripts/device/call-prelude.sh 150  # start, budget, g, OUT, S, left, build_bench, run_test, bench
build_bench &
build=$!
run_test attention 0 attention
grep "split-schedule head tiles" "$OUT/test-attention.txt" | head -4 | tee -a "$S"
wait $build; echo "bench build rc=$?" | tee -a "$S"
for i in 1 2; do
  for st in 0 all; do
    [ "$(left)" -lt 12 ] && { echo "skipped bench $st" | tee -a "$S"; continue; }
    QSPEC_ATTENTION_SPLIT_TILES=$st timeout -s KILL 30 /tmp/qspec_bench attention > "$OUT/attention-st$st-$i.txt" 2>&1
    echo "attention (QSPEC_ATTENTION_SPLIT_TILES=$st) #$i rc=$?" | tee -a "$S"
    grep -E '^attn,(1,[14]|8,1),' "$OUT/attention-st$st-$i.txt" | tr '\n' ' ' >> "$S"; echo >> "$S"
  done
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt 2>/dev/null
