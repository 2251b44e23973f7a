#!/usr/bin/env bash
# Session 15, call 4: the verify's warpgroup kernel from M = 17 (was 32) where its grid needs no split (gate/up,
# gate+up, lm_head): call 3 showed W4A16 at M = 17-28 on the cluster kernel far slower than at M = 32.
# qspec_test's verify cases (bits at every M against M = 256 included); the quick bench at M = 17-28, this
# library against QSPEC_WGMMA_VERIFY_MIN_M=32; end to end, QSpec at batch 5 and 6 (verify M = 20, 24) and
# W4A16 at batch 24, interleaved, two runs each.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; tar czf $OUT/r.tgz -C $OUT r; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
o=$OUT/r/test-verify.txt; timeout 120 $g/native/build/qspec_test verify > $o 2>&1
echo "test [verify] rc=$? $(grep -c ^PASS $o) PASS $(grep -c ^FAIL $o) FAIL"; grep -E "^FAIL" $o | head -5
T
wait
for v in before new; do
  env=""; [ $v = before ] && env="QSPEC_WGMMA_VERIFY_MIN_M=32"
  env $env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=17,20,24,28 QSPEC_BENCH_SHAPES=gate/up,lm_head,gate+up timeout 60 /tmp/qb > $OUT/r/bench-$v.txt 2>&1
  grep -E '^\| ' $OUT/r/bench-$v.txt | grep -v -- '---' | grep -v TFLOPS | cut -d'|' -f2,4,5 | tr '\n' ';'; echo
done
T
for v in before new before new; do
  env="QSPEC_WGMMA_VERIFY_MIN_M=17"; [ $v = before ] && env="QSPEC_WGMMA_VERIFY_MIN_M=32"
  n=e2e-$v; [ -e $OUT/r/$n.txt ] && n=$n-2
  env $env OUT=$OUT/r/$n timeout 70 bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 5,6,24 --max-tokens 64 --modes w4a16,qspec-a8 --bandwidth-gbps 4645 -- > $OUT/r/$n.txt 2>&1
  echo "== $n rc=$?"; grep -E "^(w4|qspec)" $OUT/r/$n.txt | head -6
  T
done
