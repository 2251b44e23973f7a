#!/usr/bin/env bash
# Session 34, call 6: the final tree (the runner's run hint BatchPlan.attentionRun: 1 for passes of short runs of
# different lengths, so that they skip the tiles' launch). (1) `qspec_test attention`; (2) the JUnit GPU suite.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 300
run_test attention 120 attention
junit
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf junit.tgz junit 2>/dev/null; rm -rf junit; ls
