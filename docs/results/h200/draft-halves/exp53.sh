#!/usr/bin/env bash
# Session 11, call 3: Nsight Compute of the draft's warpgroup kernel (BN = 128) on gate/up at M = 256, main's
# library (.device/abl/old): warp states, pipes, shared memory, and the SASS with its stall samples.
old=$(pwd)/.device/abl/old
mkdir -p $OUT/r
export PATH=/usr/local/cuda/bin:$PATH
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$old -lqspec_cuda -lcublas || echo "bench build failed"
# (both: --launch-count 2; the M = 256 one is the second) w4ax_wgmma_kernel launches of `qspec_bench profile`: gate/up M = 64 (BN = 64), gate/up M = 256 (BN = 128), down M = 256
LD_LIBRARY_PATH=$old:/usr/local/cuda/lib64 timeout 240 ncu --set full --import-source no -k regex:w4ax_wgmma_kernel \
  --launch-skip 0 --launch-count 2 -o $OUT/r/d /tmp/qb profile > $OUT/r/ncu-run.txt 2>&1
echo "ncu rc=$?"; tail -3 $OUT/r/ncu-run.txt
ncu --import $OUT/r/d.ncu-rep --print-details all > $OUT/r/ncu.txt 2>&1
grep -E "w4ax|Duration|Issue Slots Busy|Executed Ipc A|Warp Cycles Per Issued|No Eligible|Active Warps Per|Eligible Warps|Stall|Pipe .* Cycles Active|Shared|Bank" $OUT/r/ncu.txt | head -80
ncu --import $OUT/r/d.ncu-rep --page raw --csv > $OUT/r/raw.csv 2>&1
python3 - $OUT/r/raw.csv <<'PY' > $OUT/r/stalls.txt
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
h = r[0]
for i, n in enumerate(h):
    if 'issue_stalled' in n and n.endswith('per_issue_active.ratio'):
        vals = [row[i] for row in r[2:]]
        print(n.replace('smsp__average_warps_issue_stalled_', '').replace('_per_issue_active.ratio', ''), *vals)
PY
sort -k3 -g -r $OUT/r/stalls.txt | head -16
ncu --import $OUT/r/d.ncu-rep --page source --print-source sass --csv > $OUT/r/ncu-sass.csv 2>&1
ls -la $OUT/r
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
