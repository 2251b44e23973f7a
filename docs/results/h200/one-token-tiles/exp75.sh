#!/usr/bin/env bash
# Session 13, call 7: why the token stride off the bank cycle (call 6, .device/abl/stride) is slower at M = 4 than
# main's layout (.device/abl/prev = this tree's library): Nsight Compute (full set, with per-instruction samples)
# of both bulk kernels on lm_head at M = 4, each library; raw metrics of the four kernels and the SASS pages of
# W4A16's.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
export PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
export QSPEC_PROFILE="4096,128256,4"
for v in prev stride; do
  LD_LIBRARY_PATH=$(pwd)/.device/abl/$v:/usr/local/cuda/lib64 timeout 200 ncu --set full --import-source no \
    -k regex:bulk_kernel -o $OUT/r/$v /tmp/qb profile > $OUT/r/ncu-run-$v.txt 2>&1
  echo "ncu $v rc=$?"
  ncu --import $OUT/r/$v.ncu-rep --page raw --csv > $OUT/r/raw-$v.csv 2>&1
  ncu --import $OUT/r/$v.ncu-rep --page source --csv --print-source sass -k regex:w4a16_bulk > $OUT/r/sass-w4a16-$v.csv 2>&1
  ncu --import $OUT/r/$v.ncu-rep --page source --csv --print-source sass -k regex:w4ax_bulk > $OUT/r/sass-w4ax-$v.csv 2>&1
  ncu --import $OUT/r/$v.ncu-rep --print-details all > $OUT/r/details-$v.txt 2>&1
  grep -E "^  void|Duration  |DRAM Throughput  |Issue Slots Busy|Warp Cycles Per Issued|bank" $OUT/r/details-$v.txt | head -20
  rm -f $OUT/r/$v.ncu-rep
done
ls -la $OUT/r
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
