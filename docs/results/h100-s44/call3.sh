#!/usr/bin/env bash
# Session 44, call 3: the measured speculation gate (SpeculationGate.measured(), bench --measured-speculation) on the
# H100, first measured on a GPU since session 16 budgeted its exploration in time (one re-check of the slower mode per
# 16 of its mean step times, instead of one round in 16 steps). Random-weight Llama-3-8B shape, 16-token prompts,
# 256 new tokens, synthetic alpha = 0.9, batch 1, 8 and 32: W4A16 and QSpec-A8 always speculating, then with the
# gate, alternated twice. The library of call 2.
. scripts/device/call-prelude.sh "${BUDGET:-360}"
gate_run() {  # NAME [bench flags]
  local name=$1; shift
  [ "$(left)" -lt 70 ] && { echo "skipped $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env OUT=$OUT/$name bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8,32 --max-tokens 256 --modes w4a16,qspec-a8 --bandwidth-gbps 3350 "$@" -- 2>&1 | bench_rows "$name"
  echo "$name ($*) $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
for r in a b; do
  gate_run always-$r
  gate_run measured-$r --measured-speculation
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz always-* measured-* 2>/dev/null
rm -rf always-* measured-*; ls
