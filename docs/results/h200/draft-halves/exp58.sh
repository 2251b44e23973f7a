#!/usr/bin/env bash
# Session 11, call 8: SpeculationGate.measured() on the H200 (--measured-speculation): QSpec-A8 speculates only
# while it has measured faster than plain W4A16 steps at the batch size in flight. 256 tokens per request so
# that the gate's trials are a small part of each run; the same runs always speculating beside them.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
for v in always measured; do
  x=; [ $v = measured ] && x=--measured-speculation
  OUT=$OUT/r/$v timeout 200 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8,32 --max-tokens 256 --modes w4a16,qspec-a8 $x --bandwidth-gbps 4642 -- > $OUT/r/$v.txt 2>&1
  echo "== $v rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$v.txt | head -6
  T
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
