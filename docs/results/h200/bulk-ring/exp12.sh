#!/usr/bin/env bash
# Call 1 (session 6): W4A16 bulk ring depth (QSPEC_BULK_RING) at M = 5..8, tests at every depth, e2e A/B.
g=$(pwd)/.device/gpu
export PATH=/usr/local/cuda/bin:$PATH
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
cp $g/native/build/qspec_test $g/native/qspec_test_bin
qt() {  # name env...
  local name=$1; shift
  env "$@" LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 timeout 150 $g/native/qspec_test_bin > $OUT/r/test-$name.txt 2>&1
  echo "qspec_test $name rc=$? $(grep -c ^PASS $OUT/r/test-$name.txt) PASS $(grep -c ^FAIL $OUT/r/test-$name.txt) FAIL"; grep ^FAIL $OUT/r/test-$name.txt | head -5
}
qt default
T
qt all-ring2 QSPEC_BULK_GEMV=all QSPEC_BULK_RING=2
T
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || exit 1
b() {  # name env...
  local name=$1; shift
  env "$@" QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2,4,5,6,8 LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 timeout 90 /tmp/qb > $OUT/r/bench-$name.txt 2>&1
  echo "bench $name rc=$?"
}
b ring4 QSPEC_BULK_RING=4; b default; b ring2 QSPEC_BULK_RING=2; b ring4b QSPEC_BULK_RING=4
for f in ring4 default ring2 ring4b; do echo "$f w4a16: $(grep -E "^csv,[a-z/_]+,[0-9]+,[0-9]+,[0-9]+,w4a16," $OUT/r/bench-$f.txt | cut -d, -f2,5,7 | grep -v ',1,\|,2,' | tr '\n' ' ')"; done
T
for run in ring4 default ring4b default2; do
  env=""; case $run in ring4*) env="QSPEC_BULK_RING=4";; esac
  env $env OUT=$OUT/r/e2e-$run timeout 100 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 8 --max-tokens 64 --modes w4a16 --bandwidth-gbps 4642 -- > $OUT/r/e2e-$run.txt 2>&1
  echo "e2e $run rc=$? $(grep -E '^w4a16 ' $OUT/r/e2e-$run/bench/bench.txt 2>/dev/null | head -2 | tr -s ' ' | tr '\n' ';')"
  T
done
rm -rf $OUT/r/*/jre 2>/dev/null
