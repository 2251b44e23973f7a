#!/usr/bin/env bash
# Session 33, call 7 (the last device time): one more end-to-end pair at batch 1, W4A16 and QSpec-A8, without the norm
# head first and then with it, every point three times round-robin (call 6 had the head 1-4 % slower in two pairs).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 150
E2E_REPEATS=3 E2E_NEED=40 e2e nohead-3 1 w4a16,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.normHead=false
E2E_REPEATS=3 E2E_NEED=40 e2e head-3 1 w4a16,qspec-a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && rm -rf head-3 nohead-3 && ls
