#!/usr/bin/env bash
# Session 36, call 1: decode attention's instruction count (session 35's profile: ~570 instructions a warp's chunk of
# 8 positions, issue-bound where the loads run ahead). Four libraries, differing only in native/src/attention.cu, in
# .device/attn/VARIANT/ (gzipped), with qspec_test built here:
#   base: main at c9057c0 (session 34's kernels);
#   lean: + session 35's lean-chunks.patch (offsets by shift and arithmetic, no V-offset shuffles, q as float4);
#   spec: + a build for head size 128 and a path for full chunks (no per-dim or per-position checks), the chunk's max
#         and sum over 3 shuffles instead of 5 (the same bits);
#   cap:  spec with the loads-ahead builds held to 128 registers (4 blocks an SM, as loads_ahead assumes).
# Each: `qspec_test attention`, its lines diffed against base's (the same bits give the same lines), then
# `qspec_bench attention` (decode and verify only).
set -u
a=$(pwd)/.device/attn
start=$(date +%s); budget=${1:-540}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; S=$OUT/summary.txt
left() { echo $((budget - ($(date +%s) - start))); }
export PATH=/usr/local/cuda/bin:$PATH
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee -a "$S"
for v in base lean spec cap; do gunzip -f "$a/$v/libqspec_cuda.so.gz"; done
chmod +x "$a/qspec_test"
lib() { echo "$a/$1:/usr/local/cuda/lib64"; }
for v in base lean spec cap; do
  t0=$(date +%s)
  LD_LIBRARY_PATH=$(lib $v) timeout -s KILL 120 "$a/qspec_test" attention > "$OUT/test-$v.txt" 2>&1; r=$?
  echo "qspec_test attention $v rc=$r: $(grep -c ^PASS "$OUT/test-$v.txt") PASS, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -v ^PASS "$OUT/test-$v.txt" | head -4 | tee -a "$S"
  [ $v = base ] || echo "  lines differing from base: $(diff <(grep -v '^device' "$OUT/test-base.txt") <(grep -v '^device' "$OUT/test-$v.txt") | grep -c '^[<>]')" | tee -a "$S"
done
t0=$(date +%s)
nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
  -o /tmp/qspec_bench -L"$a/base" -lqspec_cuda -lcublas > "$OUT/bench-build.txt" 2>&1
echo "bench built rc=$? $(( $(date +%s) - t0 )) s" | tee -a "$S"
for v in base lean spec cap base2; do
  w=${v%2}
  [ "$(left)" -lt 60 ] && { echo "skipped bench $v" | tee -a "$S"; continue; }
  t0=$(date +%s)
  LD_LIBRARY_PATH=$(lib $w) QSPEC_BENCH_DECODE_ONLY=1 timeout -s KILL 150 /tmp/qspec_bench attention > "$OUT/bench-$v.txt" 2>&1
  echo "bench attention $v rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
done
for v in base lean spec cap base2; do [ -f "$OUT/bench-$v.txt" ] && grep ^attn, "$OUT/bench-$v.txt" | cut -d, -f5 > "$OUT/col-$v"; done
{ echo "S,Q,ctx,base_us,lean_us,spec_us,cap_us,base2_us"
  paste -d, <(grep ^attn, "$OUT/bench-base.txt" | cut -d, -f2-4) "$OUT"/col-base "$OUT"/col-lean "$OUT"/col-spec "$OUT"/col-cap "$OUT"/col-base2 2>/dev/null
} | tee "$OUT/compare.csv" | tee -a "$S"
rm -f "$OUT"/col-*
echo "done, $(left) s of $budget left" | tee -a "$S"
