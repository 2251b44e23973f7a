#!/usr/bin/env bash
# Session 33, call 3: the norm head at M <= 2 (the rule), in W4A16's GEMVs and now in the draft's (each CTA quantizes the
# RMSNorm of its input). (1) `qspec_test heads` by the rule and with QSPEC_NORM_HEAD=all (the head up to M = 4),
# `qspec_test epilogues`; (2) `qspec_bench heads` (W4A16 and A8, M = 1-4); (3) end to end at batch 1, W4A16, W4A8 and
# QSpec-A8 with the head and without (-Dqspec.cuda.normHead=false), every point three times round-robin; (4) the JUnit
# GPU suite.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library travels gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 575
run_test heads 60 heads
run_test heads-all 60 heads QSPEC_NORM_HEAD=all
run_test epilogues 60 epilogues
build_bench
heads_bench heads
E2E_REPEATS=3 E2E_NEED=150 e2e head 1 w4a16,w4a8,qspec-a8
E2E_REPEATS=3 E2E_NEED=150 e2e nohead 1 w4a16,w4a8,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.normHead=false
[ "$(left)" -gt 100 ] && junit
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && rm -rf head nohead && ls
