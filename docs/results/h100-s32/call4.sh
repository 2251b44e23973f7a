#!/usr/bin/env bash
# Session 32, call 4: the persistent chain of decode GEMVs (native/test/chain_bench.cu, built here for sm_90a against
# the staged library, carried gzipped in .device/chain) against one launch per GEMV, 32 layers of Llama-3-8B.
# (call 4: the variants CHAIN_V=1 (one fence per job done), 2 (the first tensor map from the parameter), 3 (both), and where the CTAs ran)
. scripts/device/call-prelude.sh 300
gunzip -c .device/chain/chain_bench.gz > "$g/native/chain_bench" && chmod +x "$g/native/chain_bench"
run_chain() {  # NAME [VAR=value ...]
  local name=$1; shift
  [ "$(left)" -lt 40 ] && { echo "skipped chain $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env "$@" timeout -s KILL 120 "$g/native/chain_bench" 32 1,2,4,8 > "$OUT/chain-$name.txt" 2>&1
  echo "chain $name ($*) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -E "^(M=|read|chain:|census| )" "$OUT/chain-$name.txt" >> "$S"
}
run_chain default
run_chain v1 CHAIN_V=1
run_chain v2 CHAIN_V=2
run_chain v3 CHAIN_V=3
run_chain default-2
echo "done, $(left) s of $budget left" | tee -a "$S"
