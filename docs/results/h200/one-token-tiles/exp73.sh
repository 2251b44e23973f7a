#!/usr/bin/env bash
# Session 13, call 5: why the two-row-tile bulk GEMVs slow down from one token to two and more (lm_head 72 -> 82 ->
# 85 -> 97 us at M = 1 / 2 / 4 / 8 in call 2, the kernel the same): Nsight Compute (full set) of the W4A16 and draft
# bulk kernels on lm_head at M = 1, 2, 4, 8 and gate+up at M = 1 and 4 (qspec_bench profile, QSPEC_PROFILE cases).
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
export PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed"
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64
export QSPEC_PROFILE="4096,128256,1;4096,128256,2;4096,128256,4;4096,128256,8;4096,28672,1;4096,28672,4"
timeout 300 ncu --set full --import-source no -k regex:bulk_kernel -o $OUT/r/b /tmp/qb profile > $OUT/r/ncu-run.txt 2>&1
echo "ncu rc=$?"; tail -3 $OUT/r/ncu-run.txt
ncu --import $OUT/r/b.ncu-rep --print-details all > $OUT/r/ncu.txt 2>&1
grep -E "bulk_kernel|Duration|DRAM Throughput|L2 Cache Throughput|L1/TEX Hit|Issue Slots Busy|Warp Cycles Per Issued|No Eligible|Achieved Occupancy|Registers Per|Dynamic Shared|Waves Per SM|Grid Size" $OUT/r/ncu.txt | head -120
ncu --import $OUT/r/b.ncu-rep --page raw --csv > $OUT/r/raw.csv 2>&1
python3 - $OUT/r/raw.csv <<'PY' > $OUT/r/stalls.txt
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
h = r[0]
for i, n in enumerate(h):
    if ('issue_stalled' in n and n.endswith('per_issue_active.ratio')) or n in (
            'gpu__time_duration.sum', 'dram__bytes_read.sum', 'lts__t_bytes.sum', 'smsp__inst_executed.sum',
            'l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum', 'sm__warps_active.avg.pct_of_peak_sustained_active'):
        vals = [row[i] for row in r[2:]]
        print(n.replace('smsp__average_warps_issue_stalled_', '').replace('_per_issue_active.ratio', ''), *vals)
PY
cat $OUT/r/stalls.txt
rm -f $OUT/r/raw.csv
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
