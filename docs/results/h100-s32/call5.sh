#!/usr/bin/env bash
# Session 32, call 5: (1) the chain of decode GEMVs (native/test/chain_bench.cu, carried gzipped in .device/chain) with
# CHAIN_V=3 (one fence per job done, the first tensor map as a parameter) and CHAIN_V=7 (also row tiles by the CTA's
# rank among the SMs), each twice, interleaved; (2) session 31's call6.sh: the full `qspec_test` with the rings of 2,
# the issue's end-to-end table with every point three times round-robin, and the JUnit GPU suite.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu and .device/chain).
# (the library travels gzipped, to fit the carry limit beside the chain bench)
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 575
gunzip -c .device/chain/chain_bench.gz > "$g/native/chain_bench" && chmod +x "$g/native/chain_bench"
run_chain() {  # NAME [VAR=value ...]
  local name=$1; shift
  local t0=$(date +%s)
  env "$@" timeout -s KILL 60 "$g/native/chain_bench" 32 1,2,4,8 > "$OUT/chain-$name.txt" 2>&1
  echo "chain $name ($*) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -E "^(M=|read|chain:|census| )" "$OUT/chain-$name.txt" >> "$S"
}
run_chain v3 CHAIN_V=3
run_chain v7 CHAIN_V=7
run_chain v3-2 CHAIN_V=3
run_chain v7-2 CHAIN_V=7
t0=$(date +%s)
timeout -s KILL 230 "$g/native/build/qspec_test" > "$OUT/test-all.txt" 2>&1; r=$?
{ echo "qspec_test all rc=$r: $(grep -c ^PASS "$OUT/test-all.txt") PASS, $(( $(date +%s) - t0 )) s"
  grep -v ^PASS "$OUT/test-all.txt" | head -8; } | tee -a "$S"
E2E_REPEATS=3 E2E_NEED=150 e2e table 1,8,16,32 w4a16,w4a8,qspec-a8
[ "$(left)" -ge 130 ] && junit || echo "skipped junit" | tee -a "$S"
echo "done, $(left) s of $budget left" | tee -a "$S"
