#!/usr/bin/env bash
# Session 32, call 7: the chain of decode GEMVs (native/test/chain_bench.cu, carried gzipped in .device/chain) with
# rings of 3 (the best of call 6 at M <= 4) and the default depth, now also in chains of one layer each (o, gate|up,
# down, q|k|v: the GEMVs a decode step runs with no other kernel between them), against the library's launches.
. scripts/device/call-prelude.sh 200
gunzip -c .device/chain/chain_bench.gz > "$g/native/chain_bench" && chmod +x "$g/native/chain_bench"
run_chain() {  # NAME [VAR=value ...]
  local name=$1; shift
  local t0=$(date +%s)
  env "$@" timeout -s KILL 60 "$g/native/chain_bench" 32 1,2,4,8 > "$OUT/chain-$name.txt" 2>&1
  echo "chain $name ($*) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -E "^(M=|read|chain:|census| )" "$OUT/chain-$name.txt" >> "$S"
}
run_chain ring3 CHAIN_RING=3
run_chain deep
run_chain ring3-2 CHAIN_RING=3
echo "done, $(left) s of $budget left" | tee -a "$S"
