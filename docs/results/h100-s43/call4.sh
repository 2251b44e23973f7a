#!/usr/bin/env bash
# Session 43, call 4: `qspec_test attention` with the test binary that has the 8-warp cases (call 3 carried a binary
# built before they were written, so it ran the default's cases only), and once more with QSPEC_ATTENTION_DECODE_TILES_ONE=0.
. scripts/device/call-prelude.sh "${BUDGET:-90}"
run_test attention 30 attention
grep "warps 8" "$OUT/test-attention.txt" | head -3 >> "$S"
echo "8-warp checks: $(grep -c '^PASS.*warps 8' "$OUT/test-attention.txt") passed, $(grep -c '^FAIL.*warps 8' "$OUT/test-attention.txt") failed" | tee -a "$S"
echo "done, $(left) s of $budget left" | tee -a "$S"
