#!/usr/bin/env bash
# Session 34, call 3: the prefill tiles after call 2, with the long-run test made cheap (the row kernels' blocks ask it
# with one warp's independent loads, the tiles kernel from the window's neighbours in shared memory; call 2's serial
# walks cost the mixed path's row blocks up to 30 % on verify-sized passes through qspec_attention).
# (1) `qspec_test attention`; (2) `qspec_bench attention`.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library gzipped).
[ -f .device/gpu/native/libqspec_cuda.so.gz ] && gunzip -f .device/gpu/native/libqspec_cuda.so.gz
. scripts/device/call-prelude.sh 300
run_test attention 120 attention
build_bench
attention_bench attention
echo "done, $(left) s of $budget left" | tee -a "$S"
