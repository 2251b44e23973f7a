#!/usr/bin/env bash
# Call 2 (session 6): the draft's bulk kernel with two row tiles at M = 2..8 (QSPEC_BULK_DRAFT_TILES=0: one
# token only), tests, kernel A/B, e2e A/B at batch 8, and the full kernel benchmark.
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
qt all-rows16 QSPEC_BULK_GEMV=all QSPEC_BULK_ROWS=16
T
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || exit 1
b() {  # name env...
  local name=$1; shift
  env "$@" QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2,4,8 LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 timeout 90 /tmp/qb > $OUT/r/bench-$name.txt 2>&1
  echo "bench $name rc=$?"
}
b off QSPEC_BULK_DRAFT_TILES=0; b on; b off2 QSPEC_BULK_DRAFT_TILES=0; b on2
for f in off on off2 on2; do echo "$f w4a8: $(grep -E "^csv,[a-z/_]+,[0-9]+,[0-9]+,[0-9]+,w4a8," $OUT/r/bench-$f.txt | cut -d, -f2,5,7 | grep -v ',1,' | tr '\n' ' ')"; done
T
for run in off on off2 on2; do
  env=""; case $run in off*) env="QSPEC_BULK_DRAFT_TILES=0";; esac
  env $env OUT=$OUT/r/e2e-$run timeout 100 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 8 --max-tokens 64 --modes w4a8,qspec-a8 --bandwidth-gbps 4642 -- > $OUT/r/e2e-$run.txt 2>&1
  echo "e2e $run rc=$? $(grep -E '^(w4a8|qspec-a8) ' $OUT/r/e2e-$run.txt | tr -s ' ' | cut -d' ' -f1,3,5 | tr '\n' ';')"
  T
done
LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 timeout 200 /tmp/qb > $OUT/r/bench-full.txt 2>&1; echo "bench full rc=$?"
T
rm -rf $OUT/r/*/jre $OUT/r/e2e-*/ 2>/dev/null
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r/test-*.txt
