#!/usr/bin/env bash
# Session 22, one device call: the verify GEMM's 32-token tiles tested, then measured against the 64-token tiles
# (the default; QSPEC_WGMMA_VERIFY_BN32_MAX_M=32 takes 32-token tiles at M <= 32) in the kernel benchmark and end
# to end. Steps in order of need, each
# skipped once fewer than its seconds are left of BUDGET (default 450); everything is also appended to
# $OUT/summary.txt, which comes back even if the call is cut off.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 450  # start, budget, g, OUT, S, left, build_bench
build_bench &  # built in the background while the tests run
build=$!
run_test() {  # NAME GROUP [VAR=value ...]: qspec_test GROUP under the variables
  local name=$1 group=$2; shift 2
  env "$@" timeout -s KILL 120 "$g/native/build/qspec_test" $group > "$OUT/test-$name.txt" 2>&1; local r=$?
  { echo "qspec_test $name ($*) rc=$r: $(grep -c ^PASS "$OUT/test-$name.txt") PASS"; grep -v ^PASS "$OUT/test-$name.txt" | head -6; } | tee -a "$S"
}
run_test verify-bn32rule verify QSPEC_WGMMA_VERIFY_BN32_MAX_M=32             # 32-token tiles at M <= 32
run_test verify-bn32 verify QSPEC_WGMMA_VERIFY=all QSPEC_WGMMA_VERIFY_BN=32  # the kernel at every M, 32-token tiles
wait $build; echo "bench build rc=$?" | tee -a "$S"; tail -3 "$OUT/bench-build.txt"
bench() {  # NAME [VAR=value ...]: the GEMM table at MS tokens (no cuBLAS column), W4A16 rows to the summary
  local name=$1; shift
  [ "$(left)" -lt 40 ] && { echo "skipped bench $name" | tee -a "$S"; return; }
  env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=${MS:-16,24,32} "$@" timeout -s KILL 90 /tmp/qspec_bench > "$OUT/bench-$name.txt" 2>&1
  echo "bench $name ($*) rc=$?" | tee -a "$S"
  grep -E '^csv,[^,]+,[0-9]+,[0-9]+,[0-9]+,(w4a16|read_only),|^csv,[^,]+,[0-9]+,[0-9]+,0,read_only' "$OUT/bench-$name.txt" | cut -d, -f2,5,6,7 | tr '\n' ' ' >> "$S"; echo >> "$S"
}
bench bn64 QSPEC_X=0
bench bn32 QSPEC_WGMMA_VERIFY_BN32_MAX_M=32
e2e() {  # NAME [VAR=value ...]
  local name=$1; shift
  [ "$(left)" -lt 70 ] && { echo "skipped e2e $name" | tee -a "$S"; return; }
  env OUT=$OUT/e2e-$name "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 8,32 --max-tokens 64 --modes w4a16,qspec-a8 --bandwidth-gbps 3350 -- 2>&1 | grep -E '^(w4a16|qspec)' | sed "s/^/$name /" | tee -a "$S"
}
e2e bn64 QSPEC_X=0
e2e bn32 QSPEC_WGMMA_VERIFY_BN32_MAX_M=32
bench bn32-split8 QSPEC_WGMMA_VERIFY_BN32_MAX_M=32 QSPEC_WGMMA_VERIFY_SPLIT=8
MS=9,12,16 bench bn32-min9 QSPEC_WGMMA_VERIFY_BN32_MAX_M=32 QSPEC_WGMMA_VERIFY_MIN_M=9
MS=9,12,16 bench bn64-min9 QSPEC_WGMMA_VERIFY_MIN_M=9
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt e2e-*/bench/bench.txt 2>/dev/null
