#!/usr/bin/env bash
# Session 32, call 7: the chain of decode GEMVs (native/test/chain_bench.cu, carried gzipped in .device/chain) with
# rings of 3 (the best of call 6 at M <= 4) and the default depth, now also in chains of one layer each (o, gate|up,
# down, q|k|v: the GEMVs a decode step runs with no other kernel between them), against the library's launches.
. scripts/device/call-prelude.sh 200
chain ring3 CHAIN_RING=3
chain deep
chain ring3-2 CHAIN_RING=3
echo "done, $(left) s of $budget left" | tee -a "$S"
