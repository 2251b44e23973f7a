#!/usr/bin/env bash
# Session 46, call 3 (a short call: the session's device time was nearly spent on failed starts): the RoPE epilogue
# on the two-token-tile GEMVs (9-16 tokens, QSPEC_ROPE_EPILOGUE=16, written after call 1) and the JUnit GPU suite with
# the epilogue on by default. In order of need:
#  - `qspec_test rope` with QSPEC_ROPE_EPILOGUE=16: the fused calls at M = 9, 12 and 16 against the GEMM + RoPE, bit for bit;
#  - the JUnit GPU suite (the default since fb8cb76);
#  - `qspec_bench epilogues` with QSPEC_ROPE_EPILOGUE=16 (the rope_kv lines at M = 12 and 16 time the new path);
#  - end to end, W4A16 and QSpec-A8 at batch 4 (verify passes of 16 tokens) and 16, QSPEC_ROPE_EPILOGUE=16 against
#    the default.
. scripts/device/call-prelude.sh "${BUDGET:-150}"
build_bench & build=$!
run_test rope16 20 rope QSPEC_ROPE_EPILOGUE=16
junit
wait $build; echo "bench build rc=$?" | tee -a "$S"
qspec_bench_mode "bench epilogues" bench-epilogues16.txt 20 "^rope_kv" epilogues QSPEC_ROPE_EPILOGUE=16
E2E_NEED=35 e2e e2e-m16 4,16 w4a16,qspec-a8 QSPEC_ROPE_EPILOGUE=16
E2E_NEED=35 e2e e2e-m8 4,16 w4a16,qspec-a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz junit e2e-* test-*.txt 2>/dev/null; rm -rf junit e2e-* bench-build.txt; ls
