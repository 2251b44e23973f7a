#!/usr/bin/env bash
# Session 33, call 6: the norm head as committed (call 4's design: the consumers load the rows from global memory and the
# weights' copies wait until those loads have landed; call 5's bulk copies of the rows and gains were slower and are
# gone). (1) the full `qspec_test`; (2) `qspec_bench heads`; (3) end to end at batch 1, W4A16, W4A8 and QSpec-A8 with
# the head and without (-Dqspec.cuda.normHead=false), every point three times round-robin, twice.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library travels gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 470
t0=$(date +%s)
timeout -s KILL 300 "$g/native/build/qspec_test" > "$OUT/test-all.txt" 2>&1; r=$?
{ echo "qspec_test (all) rc=$r: $(grep -c ^PASS "$OUT/test-all.txt") PASS, $(( $(date +%s) - t0 )) s"
  grep -v ^PASS "$OUT/test-all.txt" | head -6; } | tee -a "$S"
build_bench
heads_bench heads
E2E_REPEATS=3 E2E_NEED=45 e2e head 1 w4a16,w4a8,qspec-a8
E2E_REPEATS=3 E2E_NEED=45 e2e nohead 1 w4a16,w4a8,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.normHead=false
E2E_REPEATS=3 E2E_NEED=45 e2e head-2 1 w4a16,w4a8,qspec-a8
E2E_REPEATS=3 E2E_NEED=45 e2e nohead-2 1 w4a16,w4a8,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.normHead=false
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && rm -rf head nohead head-2 nohead-2 && ls
