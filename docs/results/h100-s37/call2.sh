#!/usr/bin/env bash
# Session 37, call 2: the decode tiles with their walk pipelined (table entries a chunk ahead of K and V, two sets of
# loads taking turns: call 1's walk copied the next chunk's loads into the current ones, which waited for them):
# `qspec_test attention`; `qspec_bench attention` with them off, on (2 and 3 blocks an SM), on in the sequential
# schedule; Nsight Compute of one sequence at 128 positions (tiles and row kernels: call 1 had the tiles 2x slower
# there); the JUnit DecodeTilesGpuTest; end to end at the usual 64 new tokens, with them off and on.
. scripts/device/call-prelude.sh 440
run_test attention 40 attention
build_bench
qspec_bench_mode "bench rows" bench-rows.txt 90 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1
qspec_bench_mode "bench tiles" bench-tiles.txt 90 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 QSPEC_ATTENTION_DECODE_TILES=1
qspec_bench_mode "bench tiles3" bench-tiles3.txt 90 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 QSPEC_ATTENTION_DECODE_TILES=1 QSPEC_ATTENTION_DECODE_TILES_BLOCKS=3
qspec_bench_mode "bench tiles-seq" bench-tiles-seq.txt 90 "^attn," attention QSPEC_BENCH_DECODE_ONLY=1 QSPEC_ATTENTION_DECODE_TILES=seq
for k in tiles rows; do
  env QSPEC_BENCH_CELL=1,1,128 QSPEC_BENCH_DECODE_ONLY=1 $([ $k = tiles ] && echo QSPEC_ATTENTION_DECODE_TILES=1) \
    timeout -s KILL 60 ncu --set full -k regex:'decode_tiles|attention_split|attention_kernel' -c 1 /tmp/qspec_bench attention \
    > "$OUT/ncu-$k.txt" 2>&1
  echo "ncu $k rc=$?: $(grep -E 'Duration|Registers Per|Achieved Occupancy' "$OUT/ncu-$k.txt" | tr -s ' ' | tr '\n' ';')" | tee -a "$S"
done
export QSPEC_ATTENTION_DECODE_TILES=1 QSPEC_JUNIT_SELECT="--select-class io.qspec.cuda.DecodeTilesGpuTest"
junit
unset QSPEC_JUNIT_SELECT
e2e short-tiles 1,8,32 w4a16,qspec-a8
unset QSPEC_ATTENTION_DECODE_TILES
e2e short-rows 1,8,32 w4a16,qspec-a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz short-* test-*.txt junit ncu-*.txt bench-*.txt 2>/dev/null; rm -rf short-* test-*.txt junit ncu-*.txt bench-build.txt; ls
