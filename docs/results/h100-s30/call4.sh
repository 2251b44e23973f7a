#!/usr/bin/env bash
# Session 30, device call 4 (docs/results/h100-s30/call4.sh): four token tiles over 16 consumer warps
# (QSPEC_BULK_M32_WARPS=16, TS = 2 in w4_bulk.cuh: warps w and w + 8 take slice w's token tiles 0-1 and 2-3), after
# call 3's Nsight Compute found the four-token-tile GEMVs issuing in 20-25 % of their slots, 2 warps a scheduler each
# waiting 7-9 cycles an instruction. (1) `qspec_test bulk` with it on every matrix that takes four token tiles on two
# row tiles (QSPEC_BULK_M32=all); (2) the quick GEMM table at M = 17, 24, 32: the default, 16 warps, and 16 warps on
# every matrix; (3) end to end at batch 24 and 32, W4A16 and W4A8, the default against 16 warps, same call.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 200
build_bench &
build=$!
run_test warps16 100 bulk QSPEC_BULK_M32_WARPS=16 QSPEC_BULK_M32=all
wait $build; echo "bench build rc=$?" | tee -a "$S"
if grep -q "^ALL PASSED" "$OUT/test-warps16.txt"; then
  bench default
  bench warps16 QSPEC_BULK_M32_WARPS=16
  bench warps16-all QSPEC_BULK_M32_WARPS=16 QSPEC_BULK_M32=all
  e2e e2e-default 24,32 w4a16,w4a8
  e2e e2e-warps16 24,32 w4a16,w4a8 QSPEC_BULK_M32_WARPS=16
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
