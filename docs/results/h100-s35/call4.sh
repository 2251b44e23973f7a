#!/usr/bin/env bash
# Session 35, call 4: call 3's profile put decode attention on its instruction count (one sequence at 8192 positions:
# issue slots 54 % busy, ~570 instructions a warp's chunk of 8 positions, 66 of them FFMA). The library here computes
# the same numbers with fewer: a position's pool offset by a shift where the block size is a power of two, 32-bit
# until the last multiply, a chunk's V-row offsets by arithmetic where its 8 positions share a block (no shuffles), q
# read as float4. Against call 1's library in the same call: `qspec_test attention` with each (the outputs' errors
# and counts line for line: the same bits give the same lines), then `qspec_bench attention` (decode and verify) each.
# NOT RUN in session 35 (the device time was spent). Session 36 measured the patch in its call 1 instead
# (docs/results/h100-s36/). The library it needs is main's (c9057c0) with lean-chunks.patch applied, in
# .device/gpu/native, and a baseline library from main at .device/gpu/native/base/.
. scripts/device/call-prelude.sh 150
ab_tests attention
build_bench
attention_bench attention-lean QSPEC_BENCH_DECODE_ONLY=1
attention_bench attention-base QSPEC_BENCH_DECODE_ONLY=1 LD_LIBRARY_PATH="$(base_path)"
echo "done, $(left) s of $budget left" | tee -a "$S"
