#!/usr/bin/env bash
# Call 4 (session 6): W4A16 bulk kernel with two token tiles at M = 9..16 (QSPEC_BULK_M16=1) against the
# cluster kernel: tests, kernel A/B, e2e A/B (W4A16 at batch 16 decodes M = 16; QSpec at batch 4 verifies M = 16).
g=$(pwd)/.device/gpu
export PATH=/usr/local/cuda/bin:$PATH
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
cp $g/native/build/qspec_test /tmp/qt
LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 QSPEC_BULK_M16=1 timeout 150 /tmp/qt > $OUT/r/test-m16.txt 2>&1
echo "qspec_test m16 rc=$? $(grep -c ^PASS $OUT/r/test-m16.txt) PASS $(grep -c ^FAIL $OUT/r/test-m16.txt) FAIL"; grep -A2 ^FAIL $OUT/r/test-m16.txt | head -8
grep -E "M=(9|12|16) .*(4100|4112|4096)" $OUT/r/test-m16.txt | cut -c1-120 | head
T
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || exit 1
b() {  # name env...
  local name=$1; shift
  env "$@" QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=8,9,12,16 LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 timeout 60 /tmp/qb > $OUT/r/bench-$name.txt 2>&1
  echo "bench $name rc=$?"
}
b off; b on QSPEC_BULK_M16=1; b off2; b on2 QSPEC_BULK_M16=1
for f in off on off2 on2; do echo "$f w4a16: $(grep -E "^csv,[a-z/_]+,[0-9]+,[0-9]+,[0-9]+,w4a16," $OUT/r/bench-$f.txt | cut -d, -f2,5,7 | grep -v ',8,' | tr '\n' ' ')"; done
T
for run in off on; do
  env=""; [ $run = on ] && env="QSPEC_BULK_M16=1"
  env $env OUT=$OUT/r/e2e-$run timeout 120 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda --batch 4,16 --max-tokens 64 --modes w4a16,qspec-a8 --bandwidth-gbps 4642 -- > $OUT/r/e2e-$run.txt 2>&1
  echo "e2e $run rc=$? $(grep -E '^(w4a16|qspec-a8) ' $OUT/r/e2e-$run.txt | tr -s ' ' | cut -d' ' -f1,3,5 | tr '\n' ';')"
  T
done
rm -rf $OUT/r/e2e-*/
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
