#!/usr/bin/env bash
# Session 34, call 4: the prefill tiles with two stages of K and V (tile kt + 1 copied while tile kt is multiplied).
# (1) `qspec_test attention`; (2) `qspec_bench attention`.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 300
run_test attention 120 attention
build_bench
t0=$(date +%s)
timeout -s KILL 150 /tmp/qspec_bench attention > "$OUT/attention.txt" 2>&1
echo "attention bench rc=$? $(( $(date +%s) - t0 )) s" | tee -a "$S"
grep -E "^attn_prefill" "$OUT/attention.txt" | tee -a "$S"
grep -E "^attn,(32|16),4," "$OUT/attention.txt" | tee -a "$S"
echo "done, $(left) s of $budget left" | tee -a "$S"
