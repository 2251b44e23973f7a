#!/usr/bin/env bash
# Session 31, device call 5 (docs/results/h100-s31/call5.sh): rings of 2 chunks up to 4 tokens as the rule
# (w4_bulk.cuh SHALLOW_M, from calls 3 and 4). `qspec_test bulk` on the new library, then batch 1 end to end (W4A16,
# W4A8, QSpec-A8) against the library before the change (.device/old/native, gzipped), interleaved new / old twice.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu, .device/old).
. scripts/device/call-prelude.sh 240
cp -r .device/gpu /tmp/o && gunzip -c .device/old/native/libqspec_cuda.so.gz > /tmp/o/native/libqspec_cuda.so
run_test bulk 100 bulk
E2E_NEED=38
for i in 1 2; do
  e2e e2e-new-$i 1 w4a16,w4a8,qspec-a8 QSPEC_X=0
  e2e e2e-old-$i 1 w4a16,w4a8,qspec-a8 QSPEC_STAGE=/tmp/o
done
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
