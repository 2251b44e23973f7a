#!/usr/bin/env bash
# Session 25, call 1 (written in session 24 as next-split-tiles.sh): head tiles in the attention's split schedule chosen
# per token on the device (QSPEC_ATTENTION_SPLIT_TILES=auto). The kernel test (it compares =all and =auto with the
# default bit for bit), the attention benchmark with the switch at 0, all and auto, then decode with 2048-token
# prompts end to end without and with auto, twice, interleaved.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu); the summary is $OUT/summary.txt.
. scripts/device/call-prelude.sh 520  # start, budget, g, OUT, S, left, build_bench, run_test, bench
build_bench &
build=$!
run_test attention 0 attention
grep "split-schedule head tiles" "$OUT/test-attention.txt" | head -8 | tee -a "$S"
wait $build; echo "bench build rc=$?" | tee -a "$S"
for st in 0 all auto; do
  [ "$(left)" -lt 60 ] && { echo "skipped attention bench $st" | tee -a "$S"; continue; }
  QSPEC_ATTENTION_SPLIT_TILES=$st timeout -s KILL 60 /tmp/qspec_bench attention > "$OUT/attention-st$st.txt" 2>&1
  echo "attention (QSPEC_ATTENTION_SPLIT_TILES=$st) rc=$?" | tee -a "$S"
  grep -E '^attn,[0-9]' "$OUT/attention-st$st.txt" | cut -d, -f2-5 | tr '\n' ' ' >> "$S"; echo >> "$S"
done
for i in 1 2; do
  for st in 0 auto; do
    [ "$(left)" -lt 90 ] && { echo "skipped e2e $st #$i" | tee -a "$S"; continue; }
    env OUT=$OUT/e2e-st$st-$i QSPEC_ATTENTION_SPLIT_TILES=$st bash scripts/device/run.sh bench --synthetic llama-3-8b \
      --alpha 0.9 --backend cuda --batch 1,8,16 --prompt-tokens 2048 --max-tokens 32 --modes w4a16,qspec-a8 -- 2>&1 \
      | grep -E '^(w4|qspec|bench rc)' | sed "s/^/st=$st #$i /" | tee -a "$S"
  done
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt e2e*/bench/bench.txt 2>/dev/null
