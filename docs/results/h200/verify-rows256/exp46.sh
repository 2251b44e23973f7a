#!/usr/bin/env bash
# Session 10, call 6: ablations of the draft's warpgroup kernel (timing only, wrong results; call6-draft-ablate.patch,
# built with -DABLATE=n): 1 = no unpacking by the feeder, 2 = no MMAs, 4 = no fold, 7 = the copies and barriers alone.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
export PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
for n in 0 1 2 4 7 0b; do
  lib=$g/native; [ -d .device/abl/d$n ] && lib=$(pwd)/.device/abl/d$n
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=32,64,256 timeout 60 /tmp/qb > $OUT/r/bench-draft-ablate-$n.txt 2>&1
  echo "== ablate $n rc=$?"; grep -E '^\| (q/o|gate|down|lm_head)' $OUT/r/bench-draft-ablate-$n.txt | cut -d'|' -f2,4,7 | tr '\n' ';'; echo
done
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
