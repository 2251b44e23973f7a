#!/usr/bin/env bash
# Session 31, device call 2 (docs/results/h100-s31/call2.sh): what the small kernels around the GEMMs cost a W4A16
# decode step end to end. A copy of the library built by build-ablate.py (sm_90a; .device/ablate/native, gzipped)
# returns at once from the entry points QSPEC_ABLATE names: the RMSNorms (qspec_rmsnorm_f16, qspec_rmsnorm_quantize),
# the attention (qspec_attention), RoPE + KV write (qspec_rope_write_kv). Wrong tokens, true timings of the rest:
# each run bounds what removing (or hiding) those launches could give. W4A16 and W4A8 at batch 1 and 8, same call.
# Run from the repository root after scripts/device/stage.sh and build-ablate.py here (carry .device/gpu, .device/ablate).
. scripts/device/call-prelude.sh 240
cp -r .device/gpu /tmp/b && gunzip -c .device/ablate/native/libqspec_cuda.so.gz > /tmp/b/native/libqspec_cuda.so
e2e e2e-default 1,8 w4a16,w4a8
for a in norm attention rope norm,attention,rope; do
  e2e "e2e-no-${a//,/-}" 1,8 w4a16,w4a8 QSPEC_STAGE=/tmp/b QSPEC_ABLATE=$a
done
e2e e2e-default-2 1,8 w4a16,w4a8
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt */bench/bench.txt 2>/dev/null
