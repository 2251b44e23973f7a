#!/usr/bin/env bash
# One device call: build (sm_90a only, to save device time), run the correctness test, then the
# benchmark. Logs go to $OUT (or ./build/out). Usage from native/: ./run_device.sh
set -u
OUT=${OUT:-build/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
make -j16 test-bin ARCHS="-gencode=arch=compute_90a,code=sm_90a" > "$OUT/build.txt" 2>&1 || { tail -30 "$OUT/build.txt"; exit 1; }
./build/qspec_test > "$OUT/test.txt" 2>&1
rc=$?
echo "test rc=$rc, $(grep -c ^PASS "$OUT/test.txt") PASS"
grep -v ^PASS "$OUT/test.txt" | head -40
timeout 400 ./build/qspec_bench > "$OUT/bench.txt" 2>&1
echo "bench rc=$?"
grep -v '^csv' "$OUT/bench.txt" | tail -50
exit $rc
