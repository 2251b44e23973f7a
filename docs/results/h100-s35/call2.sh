#!/usr/bin/env bash
# Session 35, call 2: what bounds decode attention? Call 1's staged build (three chunks in flight a warp, through
# shared memory) was slower than the loads-ahead and plain builds nearly everywhere, so the chains of chunk loads are
# not the limit. Nsight Compute (full set) of one attention launch in three `qspec_bench attention` cells: one sequence
# at 8192 positions by the default rule (one head a block, loads ahead), and with every token's heads tiled and the
# staged build (the library staged for call 1, which has it); decode of 32 sequences at 128 positions (the sequential
# schedule).
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 240
build_bench
prof() {  # prof NAME CELL [VAR=value ...]
  local name=$1 cell=$2; shift 2
  [ "$(left)" -lt 50 ] && { echo "skipped $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env QSPEC_BENCH_DECODE_ONLY=1 QSPEC_BENCH_CELL=$cell "$@" timeout -k 10 120 ncu --set full --import-source no \
    -k regex:'attention_(split|kernel)' --launch-count 1 -o "$OUT/$name" /tmp/qspec_bench attention > "$OUT/$name-run.txt" 2>&1
  echo "$name ($cell $*) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  ncu --import "$OUT/$name.ncu-rep" --print-details all > "$OUT/$name.txt" 2>&1
  ncu --import "$OUT/$name.ncu-rep" --page raw --csv > "$OUT/$name-raw.csv" 2>&1
  ncu --import "$OUT/$name.ncu-rep" --page source --print-source sass --csv > "$OUT/$name-sass.csv" 2>&1
  grep -E 'attention|Duration|DRAM Throughput|L2 Hit|L1/TEX Hit|Achieved Occupancy|Theoretical Occupancy|Registers Per|Executed Ipc A|Issue Slots Busy|Warp Cycles Per Issued|No Eligible|Block Limit|Executed Instructions  ' \
    "$OUT/$name.txt" | head -24 | tee -a "$S"
  grep -E 'stalled|spends' "$OUT/$name.txt" | head -6 | cut -c1-400 | tee -a "$S"
}
prof p1x8192 1,1,8192
prof p1x8192-tiled-staged 1,1,8192 QSPEC_ATTENTION_SPLIT_TILES_MIN=1 QSPEC_ATTENTION_STAGED=1
prof p32x128 32,1,128
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf ncu.tgz p* && rm -rf p*; ls
