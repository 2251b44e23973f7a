#!/usr/bin/env bash
# Session 32, call 5: (1) the chain of decode GEMVs (native/test/chain_bench.cu, carried gzipped in .device/chain) with
# CHAIN_V=3 (one fence per job done, the first tensor map as a parameter) and CHAIN_V=7 (also row tiles by the CTA's
# rank among the SMs), each twice, interleaved; (2) session 31's call6.sh: the full `qspec_test` with the rings of 2,
# the end-to-end table with every point three times round-robin, and the JUnit GPU suite.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu and .device/chain).
# (the library travels gzipped, to fit the carry limit beside the chain bench)
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 575
chain v3 CHAIN_V=3
chain v7 CHAIN_V=7
chain v3-2 CHAIN_V=3
chain v7-2 CHAIN_V=7
# session 31's call6.sh, with what is left of this call's budget
BUDGET=$(left) . docs/results/h100-s31/call6.sh
