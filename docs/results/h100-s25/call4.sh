#!/usr/bin/env bash
# Session 25, device call 4 (H100), the library of the session's final defaults (the shared token copies taken out
# again; per-token head tiles in the attention's split schedule from 2 tiled blocks per SM): `qspec_test attention`,
# the qspec-cuda JUnit GPU suite (QSpec = W4A16 on both shared models, A8 and A4 drafts; GPU against CPU parity),
# then `qspec_test bulk`. Staged with scripts/device/stage.sh here, minus the CLI's own jars (the tree must stay
# under the device tool's limit; the JUnit suite does not use them).
. scripts/device/call-prelude.sh 220  # start, budget, g, OUT, S, left, build_bench, run_test, bench
run_test attention 20 attention
env OUT=$OUT/junit bash scripts/device/run.sh tests 2>&1 | grep -E "junit rc|tests (successful|failed|aborted)|✘" \
  | head -20 | tee -a "$S"
run_test bulk 110 bulk
echo "done, $(left) s of $budget left" | tee -a "$S"
cd "$OUT" && tar czf all.tgz --exclude all.tgz *.txt junit/*.txt 2>/dev/null
