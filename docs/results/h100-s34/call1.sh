#!/usr/bin/env bash
# Session 34, call 1: (1) session 33's refactored head tests (`qspec_test heads`, by the rule and with
# QSPEC_NORM_HEAD=all), which compiled but never ran on a GPU; (2) the quick benchmark at M = 8, 9, 12 and 16 on the
# shapes whose two-token-tile GEMVs walk four row tiles (lm_head, gate+up, gate/up, q+k+v): the baseline of this
# session; (3) Nsight Compute (full set, with the SASS-level source counters) of both GEMMs' bulk-copy kernels on
# lm_head at M = 8 (one token tile, 88 % of the read rate) and 16 (two token tiles, 77 % for W4A16, 85 % for the
# draft), and on gate+up at M = 16: where the two token tiles' time goes.
# Run from the repository root after a native build into .device/gpu (carry .device/gpu; the library gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 500
run_test heads 60 heads
run_test heads-all 60 heads QSPEC_NORM_HEAD=all
build_bench
MS=8,9,12,16 bench m16 QSPEC_BENCH_SHAPES=lm_head,gate+up,gate/up,q+k+v
mkdir -p $OUT/r
export QSPEC_PROFILE="4096,128256,8;4096,128256,16;4096,28672,16"
t0=$(date +%s)
timeout 240 ncu --set full --import-source no -k regex:bulk_kernel -o $OUT/r/m16 /tmp/qspec_bench profile > $OUT/r/ncu-run.txt 2>&1
echo "ncu rc=$? $(( $(date +%s) - t0 )) s" | tee -a "$S"
unset QSPEC_PROFILE
ncu --import $OUT/r/m16.ncu-rep --page raw --csv > $OUT/r/raw.csv 2>&1
ncu --import $OUT/r/m16.ncu-rep --print-details all > $OUT/r/details.txt 2>&1
ncu --import $OUT/r/m16.ncu-rep --page source --csv --print-source sass > $OUT/r/sass.csv 2>&1
echo "sass rc=$? $(wc -l < $OUT/r/sass.csv) lines" | tee -a "$S"
grep -E "^  void|^  [a-z_0-9]+<|Duration  |DRAM Throughput  |Issue Slots Busy|Warp Cycles Per Issued|Achieved Occupancy|Registers Per|Executed Ipc A|Tensor|Shared Memory  " \
  $OUT/r/details.txt | cut -c1-150 | tee -a "$S"
rm -f $OUT/r/m16.ncu-rep
gzip $OUT/r/*.csv $OUT/r/details.txt
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
echo "done, $(left) s of $budget left" | tee -a "$S"
