#!/usr/bin/env bash
# Session 41, call 2. The library: the one-token tile on by default for decode groups, the decode tiles from 512
# positions (from 1024), set from call 1's attention table.
#  - `qspec_test attention` with the new defaults (the default case straddles 512; four cases with the 16-row tile for
#    decode groups, QSPEC_ATTENTION_DECODE_TILES_ONE=0);
#  - `qspec_bench attention` at 128-2048 positions;
#  - Nsight Compute of one sequence's decode (the one-token tile) and verify run (the 16-row tile) at 512 positions,
#    with the SASS source page: where the tiles' fixed cost at short contexts goes;
#  - the threshold's JUnit classes with the new default;
#  - 512-token prompts (256 new tokens, contexts 512-768) at batch 1 and 8, W4A16 and QSpec-A8: the tiles from 1024
#    (the old default: the row kernels for every token here) against the new default, alternated twice;
#  - the issue's end-to-end table (16-token prompts, contexts under 80: the row kernels by default) against every token
#    on the tiles (QSPEC_ATTENTION_DECODE_TILES=all).
. scripts/device/call-prelude.sh 480
run_test attention 30 attention
build_bench
qspec_bench_mode "bench attention" bench-attention.txt 60 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 \
  QSPEC_BENCH_CONTEXTS=128,256,512,1024,2048
mkdir -p "$OUT/ncu"
for cell in 1,1,512 1,4,512; do
  [ "$(left)" -lt 300 ] && break
  n=$(echo $cell | tr , -)
  env QSPEC_BENCH_CELL=$cell QSPEC_BENCH_DECODE_ONLY=1 timeout -s KILL 60 ncu --set full --import-source yes \
    -k regex:decode_tiles -c 1 -o "$OUT/ncu/tiles-$n" /tmp/qspec_bench attention > "$OUT/ncu/run-$n.txt" 2>&1
  echo "ncu $cell rc=$?" | tee -a "$S"
  ncu --import "$OUT/ncu/tiles-$n.ncu-rep" --print-details all > "$OUT/ncu/details-$n.txt" 2>&1
  ncu --import "$OUT/ncu/tiles-$n.ncu-rep" --page source --csv --print-source sass > "$OUT/ncu/sass-$n.csv" 2>&1
  echo "  $(grep -E 'Duration|Warp Cycles Per Issued|Issued Ipc Active|Executed Instructions  ' "$OUT/ncu/details-$n.txt" \
    | tr -s ' ' | tr '\n' ';') sass lines $(wc -l < "$OUT/ncu/sass-$n.csv")" | tee -a "$S"
done
if [ "$(left)" -gt 250 ]; then
  echo "junit, the threshold's classes, the default:" | tee -a "$S"
  env OUT=$OUT/junit QSPEC_JUNIT_SELECT="--select-class io.qspec.cuda.DecodeTilesGpuTest --select-class io.qspec.cuda.CudaModelRunnerGpuTest" \
    bash scripts/device/run.sh tests 2>&1 | grep -E "junit rc|tests (successful|failed|aborted)|✘|decode tiles test" \
    | head -20 | tee -a "$S"
fi
for r in a b; do
  E2E_NEED=60 e2e_prompts p512-from1024-$r 512 1,8 QSPEC_ATTENTION_DECODE_TILES_FROM=1024
  E2E_NEED=60 e2e_prompts p512-default-$r 512 1,8
done
E2E_NEED=45 e2e table-default 1,8,16,32 w4a16,qspec-a8
E2E_NEED=45 e2e table-all 1,8,16,32 w4a16,qspec-a8 QSPEC_ATTENTION_DECODE_TILES=all
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz p512-* table* junit bench-*.txt 2>/dev/null; tar czf ncu.tgz ncu 2>/dev/null
rm -rf p512-* table* junit bench-build.txt ncu; ls
