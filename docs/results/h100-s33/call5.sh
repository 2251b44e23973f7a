#!/usr/bin/env bash
# Session 33, call 5: the norm head with its inputs brought in by bulk copies ahead of the weights (calls 2-4: the
# consumers loaded them from global memory while the weights' copies waited, so the head stayed on the weights' path).
# (1) `qspec_test heads` by the rule (M <= 2) and with QSPEC_NORM_HEAD=all (up to 4); (2) `qspec_bench heads` twice;
# (3) end to end at batch 1, W4A16, W4A8 and QSpec-A8 with the head, without (-Dqspec.cuda.normHead=false), and with
# QSPEC_NORM_HEAD=all (QSpec's verify of 4 tokens too), every point three times round-robin.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library travels gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 575
run_test heads 60 heads
run_test heads-all 60 heads QSPEC_NORM_HEAD=all
build_bench
heads_bench heads-1
heads_bench heads-2
heads_bench heads-all QSPEC_NORM_HEAD=all
E2E_REPEATS=3 E2E_NEED=100 e2e head 1 w4a16,w4a8,qspec-a8
E2E_REPEATS=3 E2E_NEED=100 e2e nohead 1 w4a16,w4a8,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.normHead=false
E2E_REPEATS=3 E2E_NEED=100 e2e headall 1 w4a16,qspec-a8 QSPEC_NORM_HEAD=all
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && rm -rf head nohead headall && ls
