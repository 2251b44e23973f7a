#!/usr/bin/env bash
# Session 32, call 6: the chain of decode GEMVs (native/test/chain_bench.cu, carried gzipped in .device/chain) with its
# ring indexed at run time, as deep as two CTAs per SM allow (4 chunks at M <= 4, 3 at M = 8), against a ring of 2.
. scripts/device/call-prelude.sh 200
gunzip -c .device/chain/chain_bench.gz > "$g/native/chain_bench" && chmod +x "$g/native/chain_bench"
run_chain() {  # NAME [VAR=value ...]
  local name=$1; shift
  local t0=$(date +%s)
  env "$@" timeout -s KILL 60 "$g/native/chain_bench" 32 1,2,4,8 > "$OUT/chain-$name.txt" 2>&1
  echo "chain $name ($*) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -E "^(M=|read|chain:|census| )" "$OUT/chain-$name.txt" >> "$S"
}
run_chain deep
run_chain ring2 CHAIN_RING=2
run_chain deep-2
run_chain ring3 CHAIN_RING=3
echo "done, $(left) s of $budget left" | tee -a "$S"
