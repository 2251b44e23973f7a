#!/usr/bin/env bash
# Session 47, call 2: the bulk-copy GEMVs that keep their tokens (KEEP: four row tiles walking the wide matrices)
# reorder the kept activations into the MMAs' fragment order once, in the walk's first tile, instead of permuting
# them in every tile's steps (KERNELS.md Next 1). Staged: the library and qspec_test of this change in
# .device/gpu/native, main's library (3b04c83) as the baseline in .device/gpu/native/base. In order of need:
#  - `qspec_test bulk` with both libraries: every line the same (the same bits), all passing; and with forced walks
#    (QSPEC_BULK_WALK=2) and four row tiles at M = 17-32 (QSPEC_BULK_M32_ROWS=64, whose KEEP build reorders first);
#  - the GEMV benchmark on the matrices that keep their tokens (gate/up, gate+up, lm_head) and q/o (which does not:
#    its code is unchanged) at M = 1-16, each library twice, alternated;
#  - end to end, W4A16 and QSpec-A8 at batch 1, 8 and 16, each library twice, alternated.
. scripts/device/call-prelude.sh "${BUDGET:-420}"
build_bench & build=$!
ab_tests bulk
run_test bulk-walk2 40 bulk QSPEC_BULK_WALK=2
run_test bulk-m32rows64 40 bulk QSPEC_BULK_M32_ROWS=64
wait $build; echo "bench build rc=$?" | tee -a "$S"
export MS=1,2,4,8,9,12,16
for r in a b; do
  bench new-$r QSPEC_BENCH_SHAPES=gate/up,gate+up,lm_head,q/o
  bench base-$r QSPEC_BENCH_SHAPES=gate/up,gate+up,lm_head,q/o LD_LIBRARY_PATH="$(base_path)"
done
for r in a b; do
  e2e e2e-new-$r 1,8,16 w4a16,qspec-a8
  on_base e2e e2e-base-$r 1,8,16 w4a16,qspec-a8
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz e2e-* test-*.txt bench-*.txt 2>/dev/null; rm -rf e2e-* test-*.txt bench-*.txt; ls
