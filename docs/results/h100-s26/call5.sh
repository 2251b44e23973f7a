#!/usr/bin/env bash
# Session 26, device call 5 (H100): the end-to-end table's W4A16 and QSpec-A8 rows with the session's final
# defaults (query tiles opt-in, large attention passes split from 2048-position tables: neither applies to these
# 16-token prompts' contexts but the verify's tiles did in call 3). Run from the repository root after
# scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 110  # start, budget, g, OUT, S, left, build_bench, run_test, bench, e2e, e2e_long
t0=$(date +%s)
env OUT=$OUT/table bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
  --batch 1,8,16,32 --max-tokens 64 --modes w4a16,qspec-a8 --bandwidth-gbps 3350 -- 2>&1 \
  | grep -E '^(w4|qspec|bench rc)' | sed "s/^/table /" | tee -a "$S"
echo "table $(( $(date +%s) - t0 )) s" | tee -a "$S"
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
