#!/usr/bin/env bash
# Session 32, call 8: the chain of decode GEMVs (native/test/chain_bench.cu, carried gzipped in .device/chain) with
# rings of 3, and the same with no CTA waiting for the GEMV before (CHAIN_V=15: the GEMVs only stream one after
# another), to see what the grid-wide dependency costs.
. scripts/device/call-prelude.sh 200
gunzip -c .device/chain/chain_bench.gz > "$g/native/chain_bench" && chmod +x "$g/native/chain_bench"
run_chain() {  # NAME [VAR=value ...]
  local name=$1; shift
  local t0=$(date +%s)
  env "$@" timeout -s KILL 60 "$g/native/chain_bench" 32 1,2,4,8 > "$OUT/chain-$name.txt" 2>&1
  echo "chain $name ($*) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -E "^(M=|read|chain:|census| )" "$OUT/chain-$name.txt" >> "$S"
}
run_chain nowait CHAIN_V=15
run_chain ring3 CHAIN_RING=3
run_chain nowait-2 CHAIN_V=15
echo "done, $(left) s of $budget left" | tee -a "$S"
