#!/usr/bin/env bash
# Session 47, call 4: the W4A16 warpgroup kernel's grid rules at 32-128 tokens on an H100 (the rules of sessions 15-23
# were set on an H200; QSpec's verify passes are 32, 64 and 128 tokens at batch 8, 16 and 32, and W4A16's decode at
# batch 32 is 32). The GEMM benchmark (qspec_bench, quick, every Llama-3-8B shape, M = 32, 48, 64, 128) under each
# switch of grid_of (w4a16_wgmma.cu), and the four token tiles of the bulk GEMVs on every shape at M = 32; the default
# first and last (the call's noise). Main's library (3b04c83).
. scripts/device/call-prelude.sh "${BUDGET:-170}"
build_bench
export MS=32,48,64,128 BENCH_NEED=20
bench default-a
bench rows256 QSPEC_WGMMA_VERIFY_ROWS=256
bench split1 QSPEC_WGMMA_VERIFY_SPLIT=1
bench split8 QSPEC_WGMMA_VERIFY_SPLIT=8
bench bn32 QSPEC_WGMMA_VERIFY_BN=32
bench small0 QSPEC_WGMMA_VERIFY_SMALL_GRIDS=0
bench m32all QSPEC_BULK_M32=all
bench default-b
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz bench-*.txt; rm -f bench-*.txt; ls
