#!/usr/bin/env bash
# Session 47, call 1 (session 46's call2.sh, which never got a machine): RoPE and the KV write in the q|k|v GEMV's epilogue on by default (call 1 measured it on an H200:
# the kernel tests passed, decode 3-6 % faster end to end; one JUnit tolerance was too tight for the GPU). In order of
# need:
#  - the JUnit GPU suite with the new default (QSpec = W4A16 on both shared models, GPU-CPU parity, the runner's bits);
#  - the A/B at batch 1, 8, 16 and 32 (the default against -Dqspec.cuda.fusedRopeKv=false): call 1 reached batch 1
#    and 8 only, and if this call gets an H100 it is the A/B on the GPU issue 5 names;
#  - the end-to-end table with the new default, every point three times round-robin, if 150 s are left;
#  - a second round of the A/B.
. scripts/device/call-prelude.sh "${BUDGET:-480}"
ab() {
  e2e e2e-fused-$1 1,8,16,32 w4a16,qspec-a8
  e2e e2e-plain-$1 1,8,16,32 w4a16,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.fusedRopeKv=false
}
junit
ab a
E2E_REPEATS=3 E2E_NEED=150 e2e table 1,8,16,32 w16a16,w4a16,w4a8,qspec-a8,qspec-a4
ab b
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz table junit e2e-* 2>/dev/null; rm -rf table junit e2e-*; ls
