#!/usr/bin/env bash
# Session 32, call 6: the chain of decode GEMVs (native/test/chain_bench.cu, carried gzipped in .device/chain) with its
# ring indexed at run time, as deep as two CTAs per SM allow (4 chunks at M <= 4, 3 at M = 8), against a ring of 2.
. scripts/device/call-prelude.sh 200
chain deep
chain ring2 CHAIN_RING=2
chain deep-2
chain ring3 CHAIN_RING=3
echo "done, $(left) s of $budget left" | tee -a "$S"
