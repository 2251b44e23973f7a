#!/usr/bin/env bash
# Session 50, call 3, cut to the device time left (three starts that found no machine took 480 s): the issue's
# end-to-end table with the rules of call 2 (W16A16, W4A16, W4A8, QSpec-A8, QSpec-A4 at batch 1 / 8 / 16 / 32, 64 new
# tokens, the synthetic alpha = 0.9, every point three times round-robin) and the full kernel benchmark (M = 1-256),
# the rules, both builds off, and the verify build forced (for 17-32 tokens, left out of the rule untimed).
# `BUDGET=130 bash docs/results/s50/call3.sh` (timeout_s 140).
. scripts/device/call-prelude.sh "${BUDGET:-130}"
build_bench & build=$!
E2E_REPEATS=3 E2E_NEED=70 e2e table 1,8,16,32 w16a16,w4a16,w4a8,qspec-a8,qspec-a4
wait $build; echo "bench build rc=$?" | tee -a "$S"
for arm in rule off direct; do  # direct: the verify build wherever the kernel runs (its M = 32 column is untimed)
  vars=""; [ $arm = off ] && vars="QSPEC_WGMMA_DRAFT_RF=0 QSPEC_WGMMA_VERIFY_DIRECT=0"
  [ $arm = direct ] && vars="QSPEC_WGMMA_VERIFY_DIRECT=1"
  [ "$(left)" -lt 16 ] && break
  t0=$(date +%s); env $vars timeout -s KILL "$(left)" /tmp/qspec_bench > "$OUT/native-bench-$arm.txt" 2>&1
  echo "full kernel benchmark, $arm ($vars) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz table 2>/dev/null; rm -rf table bench-build.txt; ls
