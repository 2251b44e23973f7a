#!/usr/bin/env bash
# Session 31, device call 3 (docs/results/h100-s31/call3.sh): the bulk-copy GEMVs' choices at M = 1-8 on the H100.
# Call 2 found the GEMVs ~85-90 % of a batch-1 W4A16 step (the norms, attention and RoPE together 9-15 %), and the
# rules at M <= 8 (row tiles, ring depth, walks) were measured on the H200, whose HBM is 1.4x the H100's. The quick
# GEMM table at M = 1, 2, 4, 8 on every shape under each existing switch (the same bits), the default twice; then
# W4A16 and W4A8 end to end at batch 1 under the default and the switches that could move a batch-1 step.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 330
build_bench
echo "bench build rc=$?" | tee -a "$S"
export MS=1,2,4,8 BENCH_NEED=30 BENCH_TIMEOUT=40
bench default QSPEC_X=0
bench rows1-16 QSPEC_BULK_ROWS1=16
bench rows-16 QSPEC_BULK_ROWS=16
bench ring2 QSPEC_BULK_RING=2
bench ring3 QSPEC_BULK_RING=3
bench walk0 QSPEC_BULK_WALK=0
bench walk2 QSPEC_BULK_WALK=2
bench walk3 QSPEC_BULK_WALK=3
bench wide-rows32 QSPEC_BULK_WIDE_ROWS=32
bench wide-m1 QSPEC_BULK_WIDE_M=1
bench default-2 QSPEC_X=0
unset MS
E2E_NEED=25
e2e e2e-default 1 w4a16,w4a8 QSPEC_X=0
e2e e2e-rows1-16 1 w4a16,w4a8 QSPEC_BULK_ROWS1=16
e2e e2e-walk0 1 w4a16,w4a8 QSPEC_BULK_WALK=0
e2e e2e-ring3 1 w4a16,w4a8 QSPEC_BULK_RING=3
e2e e2e-default-2 1 w4a16,w4a8 QSPEC_X=0
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
