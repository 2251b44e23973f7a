#!/usr/bin/env bash
# Session 29, device call 3 (docs/results/h100-s29/call3.sh) (H100): four token tiles at M = 17-32 made a rule in w4_bulk.cuh four_token_tiles
# (N <= 4096, and N <= 8192 up to M = 24) after call 2's measurement of QSPEC_BULK_M32=all against 0. (1) `qspec_test
# bulk` with the rule (no variable); (2) the quick GEMM table at M = 17, 24, 32 with the rule; (3) the issue's
# end-to-end table with the rule, and the same modes at batch 8-32 with QSPEC_BULK_M32=0 (the old default) in the same
# call (W16A16, cuBLAS, does not use these kernels: left out; the JUnit suite too, for the device
# time left after two failed starts). Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 250
build_bench &
build=$!
run_test bulk 100 bulk
wait $build; echo "bench build rc=$?" | tee -a "$S"
if grep -q "^ALL PASSED" "$OUT/test-bulk.txt"; then
  bench m32-rule
  if [ "$(left)" -ge 120 ]; then
    t0=$(date +%s)
    env OUT=$OUT/table bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
      --batch 1,8,16,32 --max-tokens 64 --modes w4a16,w4a8,qspec-a8 --bandwidth-gbps 3350 -- 2>&1 \
      | grep -E '^(w16|w4|qspec|bench rc)' | sed "s/^/table /" | tee -a "$S"
    echo "table $(( $(date +%s) - t0 )) s" | tee -a "$S"
  fi
  e2e e2e-off 8,16,32 w4a16,w4a8,qspec-a8 QSPEC_BULK_M32=0
fi
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
