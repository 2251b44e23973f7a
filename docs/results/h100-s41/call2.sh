#!/usr/bin/env bash
# Session 41, call 2. The library: the one-token tile on by default for decode groups, the decode tiles from 512
# positions (from 1024), set from call 1's attention table. In order of need:
#  - `qspec_test attention` with the new defaults (the default case straddles 512; four cases with the 16-row tile for
#    decode groups, QSPEC_ATTENTION_DECODE_TILES_ONE=0);
#  - the threshold's JUnit classes with the new default;
#  - `qspec_bench attention` at 128-2048 and 8192 positions, with the tiles' splits of 256 positions (the default),
#    128 and 64 (QSPEC_ATTENTION_DECODE_TILES_SPLIT; qspec_test attention has four cases with each);
#  - 512-token prompts (256 new tokens, contexts 512-768) at batch 1 and 8, W4A16 and QSpec-A8: the tiles from 1024
#    (the old default: the row kernels for every token here) against the new default, and the new default with splits
#    of 128, alternated twice;
#  - if time is left: Nsight Compute of one sequence's decode (the one-token tile) at 512 positions with the SASS source
#    page (where the tiles' fixed cost at short contexts goes), and the issue's end-to-end table (16-token prompts,
#    contexts under 80: the row kernels by default) against every token on the tiles (QSPEC_ATTENTION_DECODE_TILES=all).
. scripts/device/call-prelude.sh 460
run_test attention 30 attention
junit_classes junit "io.qspec.cuda.DecodeTilesGpuTest io.qspec.cuda.CudaModelRunnerGpuTest"
build_bench
split_benches 60 128,256,512,1024,2048,8192
for r in a b; do
  E2E_NEED=50 e2e_prompts p512-from1024-$r 512 1,8 QSPEC_ATTENTION_DECODE_TILES_FROM=1024
  E2E_NEED=50 e2e_prompts p512-default-$r 512 1,8
  E2E_NEED=50 e2e_prompts p512-split128-$r 512 1,8 QSPEC_ATTENTION_DECODE_TILES_SPLIT=128
done
mkdir -p "$OUT/ncu"
if [ "$(left)" -gt 60 ]; then
  env QSPEC_BENCH_CELL=1,1,512 QSPEC_BENCH_DECODE_ONLY=1 timeout -s KILL 50 ncu --set full --import-source yes \
    -k regex:decode_tiles -c 1 -o "$OUT/ncu/tiles-1-1-512" /tmp/qspec_bench attention > "$OUT/ncu/run.txt" 2>&1
  echo "ncu rc=$?" | tee -a "$S"
  ncu --import "$OUT/ncu/tiles-1-1-512.ncu-rep" --print-details all > "$OUT/ncu/details.txt" 2>&1
  ncu --import "$OUT/ncu/tiles-1-1-512.ncu-rep" --page source --csv --print-source sass > "$OUT/ncu/sass.csv" 2>&1
  echo "  $(grep -E 'Duration|Warp Cycles Per Issued|Issued Ipc Active|Executed Instructions  ' "$OUT/ncu/details.txt" \
    | tr -s ' ' | tr '\n' ';') sass lines $(wc -l < "$OUT/ncu/sass.csv")" | tee -a "$S"
fi
E2E_NEED=40 e2e table-default 1,8,16,32 w4a16,qspec-a8
E2E_NEED=40 e2e table-all 1,8,16,32 w4a16,qspec-a8 QSPEC_ATTENTION_DECODE_TILES=all
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz p512-* table* junit bench-*.txt 2>/dev/null; tar czf ncu.tgz ncu 2>/dev/null
rm -rf p512-* table* junit bench-build.txt ncu; ls
