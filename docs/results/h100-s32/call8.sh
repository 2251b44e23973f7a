#!/usr/bin/env bash
# Session 32, call 8: the chain of decode GEMVs (native/test/chain_bench.cu, carried gzipped in .device/chain) with
# rings of 3, and the same with no CTA waiting for the GEMV before (CHAIN_V=15: the GEMVs only stream one after
# another), to see what the grid-wide dependency costs.
. scripts/device/call-prelude.sh 200
chain nowait CHAIN_V=15
chain ring3 CHAIN_RING=3
chain nowait-2 CHAIN_V=15
echo "done, $(left) s of $budget left" | tee -a "$S"
