#!/usr/bin/env bash
# Session 47, call 3 (on the machine call 2 left warm, whose time ran out in its tests): call 2's benchmarks alone. The
# GEMV benchmark on the matrices that keep their tokens (gate/up, gate+up, lm_head) and on q/o (unchanged code, the
# control) at M = 1-16, each library twice, alternated; then W4A16 and QSpec-A8 end to end at batch 1, 8 and 16, each
# library twice, alternated.
. scripts/device/call-prelude.sh 300
build_bench
export MS=1,2,4,8,9,12,16
for r in a b; do
  bench new-$r QSPEC_BENCH_SHAPES=gate/up,gate+up,lm_head,q/o
  bench base-$r QSPEC_BENCH_SHAPES=gate/up,gate+up,lm_head,q/o LD_LIBRARY_PATH="$(base_path)"
done
for r in a b; do
  e2e e2e-new-$r 1,8,16 w4a16,qspec-a8
  on_base e2e e2e-base-$r 1,8,16 w4a16,qspec-a8
done
echo "done, $(left) s" | tee -a $S
cd $OUT && tar czf all.tgz e2e-* bench-*.txt; rm -rf e2e-* bench-*.txt; ls
