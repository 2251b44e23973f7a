#!/usr/bin/env bash
# Session 46, calls 4 and 5 (the H100 of call 3, still warm; the last of the session's device time): the A/B of the
# RoPE epilogue on the GPU issue 5 names, W4A16 and QSpec-A8 at batch 1 and 8, the default (on) against
# -Dqspec.cuda.fusedRopeKv=false. Call 4 ran on then off (ORDER=on-off), call 5 off then on (ORDER=off-on).
. scripts/device/call-prelude.sh "${BUDGET:-90}"
on() { e2e e2e-on$1 1,8 w4a16,qspec-a8; }
off() { e2e e2e-off$1 1,8 w4a16,qspec-a8 JAVA_TOOL_OPTIONS=-Dqspec.cuda.fusedRopeKv=false; }
if [ "${ORDER:-on-off}" = on-off ]; then on ""; off ""; else off -b; on -b; fi
cd "$OUT" && tar czf all.tgz e2e-* && rm -rf e2e-*; ls
