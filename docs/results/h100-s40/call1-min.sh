#!/usr/bin/env bash
# Session 40, the last try with little device time left: call1.sh's first two steps only (the bits), then the attention
# bench if any time is left (the kernel benchmark is built there, ~50 s).
. scripts/device/call-prelude.sh "${BUDGET:-100}"
{ echo "mma_operands:"; timeout -s KILL 60 "$g/native/build/mma_operands"; echo "rc=$?"; } 2>&1 | tee -a "$S"
run_test attention 30 attention
if [ "$(left)" -gt 120 ]; then
  build_bench
  qspec_bench_mode "bench attention" bench-attention.txt "$(( $(left) - 5 ))" "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 \
    QSPEC_BENCH_CONTEXTS=128,512,1024,2048,8192
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
