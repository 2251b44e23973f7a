#!/usr/bin/env bash
# Session 9, call 7: the full kernel benchmark on the final kernels (the KERNELS.md table), and ablations of the
# final verify kernel (timing only; wrong results): 15 = no token permutation, no unpacking, no MMAs, no fold (the
# pipeline alone); 7 = the fold alone; 5 = no permutation and no MMAs; 0 = the kernel.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
export PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
for n in 0 15 7 5; do
  LD_LIBRARY_PATH=$(pwd)/.device/abl/a$n:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=64,256 timeout 40 /tmp/qb > $OUT/r/bench-ablate-$n.txt 2>&1
  echo "== ablate $n rc=$?"; grep -E '^\| (q/o|gate|down|lm_head)' $OUT/r/bench-ablate-$n.txt | cut -d'|' -f2,4,5 | tr '\n' ';'; echo
done
LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 timeout 200 /tmp/qb > $OUT/r/native-bench.txt 2>&1
echo "qspec_bench rc=$?"; grep -v '^csv' $OUT/r/native-bench.txt | tail -52
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
