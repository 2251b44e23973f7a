#!/usr/bin/env bash
# Session 30, device call 3 (docs/results/h100-s30/call3.sh) (H100): where the four-token-tile GEMVs' time goes.
# Session 30's call 1 found them not bound by the token bytes they bring in (a K split that halves those made them
# slower), and session 29 found q/o at 17 tokens as fast with 64 rows a CTA as with 32. Nsight Compute (full set) of
# both GEMMs' bulk-copy kernels on q/o (K = N = 4096) at M = 8 (one token tile, 75 % of the read rate), 17 and 32
# (four token tiles), and on down (K = 14336) at M = 32: the details pages and the raw metrics (stall reasons).
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu).
. scripts/device/call-prelude.sh 400
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas > "$OUT/bench-build.txt" 2>&1; echo "bench build rc=$?" | tee -a "$S"
mkdir -p $OUT/r
export QSPEC_PROFILE="4096,4096,8;4096,4096,17;4096,4096,32;14336,4096,32"
t0=$(date +%s)
timeout 300 ncu --set full --import-source no -k regex:bulk_kernel -o $OUT/r/m32 /tmp/qb profile > $OUT/r/ncu-run.txt 2>&1
echo "ncu rc=$? $(( $(date +%s) - t0 )) s" | tee -a "$S"
ncu --import $OUT/r/m32.ncu-rep --page raw --csv > $OUT/r/raw.csv 2>&1
ncu --import $OUT/r/m32.ncu-rep --print-details all > $OUT/r/details.txt 2>&1
grep -E "^  void|^  [a-z_0-9]+<|Duration  |DRAM Throughput  |Memory Throughput  |Issue Slots Busy|Warp Cycles Per Issued|Achieved Occupancy|Registers Per|L1/TEX Hit|L2 Hit|Executed Ipc A" \
  $OUT/r/details.txt | cut -c1-150 | tee -a "$S"
rm -f $OUT/r/m32.ncu-rep
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
echo "done, $(left) s of $budget left" | tee -a "$S"
