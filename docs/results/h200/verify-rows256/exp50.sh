#!/usr/bin/env bash
# Session 10, call 10: the Java GPU suite on the final library (the K-split rules of call 9).
mkdir -p $OUT/r
OUT=$OUT/r timeout 200 bash scripts/device/run.sh tests > $OUT/r/tests-run.txt 2>&1; echo "tests rc=$?"; grep -E "tests (successful|failed)" $OUT/r/tests-run.txt
tar czf $OUT/r.tgz -C $OUT r && rm -rf $OUT/r
