#!/usr/bin/env bash
# Session 31, device call 4 (docs/results/h100-s31/call4.sh): call 3's two H100 wins at one token, end to end.
# Call 3's GEMM table (M = 1) had W4A16 with four row tiles from one token on the wide matrices (QSPEC_BULK_WIDE_M=1;
# the default starts them at M = 2, from the H200) 5-6 % faster on gate+up, gate/up and lm_head, and rings of 2
# chunks (QSPEC_BULK_RING=2) 5-8 % faster on q+k+v in both GEMMs; same bits either way. W4A16 and W4A8 at batch 1,
# the default, each switch and both, the default and four row tiles twice, interleaved.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 200
E2E_NEED=28
e2e e2e-default 1 w4a16,w4a8 QSPEC_X=0
e2e e2e-wide-m1 1 w4a16,w4a8 QSPEC_BULK_WIDE_M=1
e2e e2e-ring2 1 w4a16,w4a8 QSPEC_BULK_RING=2
e2e e2e-wide-m1-ring2 1 w4a16,w4a8 QSPEC_BULK_WIDE_M=1 QSPEC_BULK_RING=2
e2e e2e-default-2 1 w4a16,w4a8 QSPEC_X=0
e2e e2e-wide-m1-2 1 w4a16,w4a8 QSPEC_BULK_WIDE_M=1
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
