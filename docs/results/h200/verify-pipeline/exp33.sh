#!/usr/bin/env bash
# Session 9, call 3: the verify feeder loading its tokens before it waits for the operand stage (72 registers).
g=$(pwd)/.device/gpu
mkdir -p $OUT/r
t0=$(date +%s)
T() { echo "t=$(( $(date +%s) - t0 ))"; }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64 PATH=/usr/local/cuda/bin:$PATH
(nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qb -L$g/native -lqspec_cuda -lcublas || echo "bench build failed") &
for v in "" "QSPEC_WGMMA_VERIFY_AB=2"; do
  for a in "" "QSPEC_WGMMA_VERIFY=all"; do
    f=$OUT/r/verify-${v:-default}${a:+-all}.txt; f=${f//=/_}
    env $v $a timeout 50 stdbuf -oL $g/native/build/qspec_test verify > $f 2>&1
    echo "verify $v $a rc=$? $(grep -c ^PASS $f) PASS $(grep -c ^FAIL $f) FAIL"; grep ^FAIL $f | head -4
  done
done
T
cuobjdump -sass $g/native/libqspec_cuda.so > /tmp/sass.txt 2>&1
awk '/Function : .*w4a16_wgmma_kernelILi3ELb1E/{p=1} /Function : /{if(!/w4a16_wgmma_kernelILi3ELb1E/)p=0} p' /tmp/sass.txt > $OUT/r/sass-verify-3-ahead.txt
echo "sass lines $(wc -l < $OUT/r/sass-verify-3-ahead.txt)"
wait
for v in "" "QSPEC_WGMMA_VERIFY_AB=2" "QSPEC_WGMMA_VERIFY_AHEAD=0" "QSPEC_WGMMA_PINGPONG=0" "QSPEC_WGMMA_VERIFY=0"; do
  f=$OUT/r/bench-quick-${v:-default}.txt; f=${f//=/_}; f=${f// /-}
  env $v QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=32,64,128,256 timeout 40 /tmp/qb > $f 2>&1
  echo "== bench ${v:-default} rc=$?"; grep -E '^\| (q/o|k/v|gate|down|lm_head)' $f | cut -d'|' -f2,4,5 | tr '\n' ';'; echo
done
T
timeout 150 ncu --set full --import-source no -k regex:w4a16_wgmma -c 2 -o $OUT/r/verify /tmp/qb profile > $OUT/r/ncu-run.txt 2>&1
echo "ncu rc=$?"
ncu --import $OUT/r/verify.ncu-rep --print-details all > $OUT/r/ncu.txt 2>&1
grep -E "w4a16_wgmma|Duration|Registers Per|Issue Slots Busy|Warp Cycles Per Issued" $OUT/r/ncu.txt | head -40
ncu --import $OUT/r/verify.ncu-rep --page source --print-source sass --csv > $OUT/r/ncu-sass.csv 2>&1
T
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
