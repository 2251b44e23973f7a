#!/usr/bin/env bash
# Session 43, call 5: long prompts with the current library (the decode tiles from 512 positions with the one-token
# tile, 4 warps and splits of 256: the defaults), for PERFORMANCE.md's "Long prompts on the H100", whose cells came
# from sessions 34-39's libraries: 4096-token prompts with 256 new tokens at batch 1 and 8, and 2048-token prompts
# with 32 new tokens (prefill included) at batch 1 and 4; W4A16 and QSpec-A8, one run each.
. scripts/device/call-prelude.sh "${BUDGET:-150}"
e2e_context ctx4096 w4a16,qspec-a8
e2e_long long2048 1,4 w4a16,qspec-a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz ctx4096 long2048 2>/dev/null; rm -rf ctx4096 long2048; ls
