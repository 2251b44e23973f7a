#!/usr/bin/env bash
# Session 12, call 1: what bounds the one-token bulk-copy GEMV (W4A16, w4a16_bulk_kernel<1>)? Timing-only
# ablations built from copies of native/ (.device/abl/*): nomma (consumers read the chunk, no unpack/MMA),
# noread (consumers only wait and release), nt2 (two row tiles per CTA at M = 1 too: real kernel, same bits);
# each with the quick bench at M = 1 and the K x N sweep (weights from HBM and from L2). Then Nsight Compute
# of main's kernel at M = 1 on q/o and gate/up.
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
T
for v in main nomma noread nt2 main; do
  lib=$g/native; [ $v != main ] && lib=$(pwd)/.device/abl/$v
  f=$OUT/r/bench-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=1,2,8 timeout 60 /tmp/qb > $f 2>&1
  echo "== bench $v rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5,6,7,8 | tr '\n' ';'; echo
  f=$OUT/r/sweep-$v.txt; [ -e $f ] && f=${f%.txt}-2.txt
  LD_LIBRARY_PATH=$lib:/usr/local/cuda/lib64 timeout 90 /tmp/qb sweep > $f 2>&1
  echo "== sweep $v rc=$?"; grep -E '^sw,(1024|4096|16384),(4096|16384),w4a16' $f | cut -d, -f2-6 | tr '\n' ';'; echo
  T
done
LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 timeout 200 ncu --set full --import-source no -k regex:w4a16_bulk_kernel \
  --launch-skip 0 --launch-count 2 -o $OUT/r/b /tmp/qb profile > $OUT/r/ncu-run.txt 2>&1
echo "ncu rc=$?"; tail -3 $OUT/r/ncu-run.txt
ncu --import $OUT/r/b.ncu-rep --print-details all > $OUT/r/ncu.txt 2>&1
grep -E "w4a16_bulk|Duration|DRAM Throughput|Memory Throughput|L2 Cache Throughput|Issue Slots Busy|Executed Ipc A|Warp Cycles Per Issued|No Eligible|Achieved Occupancy|Eligible Warps|Theoretical Occ|Registers Per|Block Limit" $OUT/r/ncu.txt | head -60
ncu --import $OUT/r/b.ncu-rep --page raw --csv > $OUT/r/raw.csv 2>&1
python3 - $OUT/r/raw.csv <<'PY' > $OUT/r/stalls.txt
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
h = r[0]
for i, n in enumerate(h):
    if 'issue_stalled' in n and n.endswith('per_issue_active.ratio'):
        vals = [row[i] for row in r[2:]]
        print(n.replace('smsp__average_warps_issue_stalled_', '').replace('_per_issue_active.ratio', ''), *vals)
PY
sort -k3 -g -r $OUT/r/stalls.txt | head -14
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
