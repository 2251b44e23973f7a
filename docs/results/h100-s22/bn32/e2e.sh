#!/usr/bin/env bash
# Session 22, second device call: end to end, the verify GEMM's 64-token tiles (QSPEC_WGMMA_VERIFY_BN=64, the rule
# before) against the 32-token tiles of the new rule, interleaved, two runs each. QSpec-A8 at batch 8 verifies 32
# tokens a round; W4A16 at batch 24 and 32 decodes at M = 24 and 32.
OUT=${OUT:-/tmp/out}
args=(--synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 8,24,32 --max-tokens 64 --modes w4a16,qspec-a8 --bandwidth-gbps 3350 --)
for i in 1 2; do
  OUT=$OUT/bn64-$i QSPEC_WGMMA_VERIFY_BN=64 bash scripts/device/run.sh bench "${args[@]}" 2>&1 | grep -E '^(w4a16|qspec)'
  OUT=$OUT/bn32-$i bash scripts/device/run.sh bench "${args[@]}" 2>&1 | grep -E '^(w4a16|qspec)'
done
