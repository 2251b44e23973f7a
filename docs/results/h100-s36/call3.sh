#!/usr/bin/env bash
# Session 36, call 3 (NOT RUN: the device time was spent): as call 2, with the plain build reading q as main does (a
# pointer into shared memory, not an array: call 2 lost 7-10 % on large grids at long contexts, where the per-token
# four-head kernel had grown 72 -> 80 registers). The library in .device/gpu/native, main's (c9057c0) in
# .device/gpu/native/base/. `qspec_test attention` with each (lines diffed), `qspec_bench attention` twice each,
# alternating (every cell); end to end with 4096-token prompts and 256 new tokens (W4A16, batch 1 and 8) with each.
. scripts/device/call-prelude.sh 420
ab_tests attention
build_bench
for r in 1 2; do
  qspec_bench_mode "bench new$r" bench-new$r.txt 120 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1
  qspec_bench_mode "bench base$r" bench-base$r.txt 120 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 LD_LIBRARY_PATH="$(base_path)"
done
e2e_context long-new w4a16
e2e_context long-base w4a16 base
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf e2e.tgz long-* test-*.txt 2>/dev/null; rm -rf long-* test-*.txt; ls
