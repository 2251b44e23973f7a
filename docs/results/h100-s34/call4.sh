#!/usr/bin/env bash
# Session 34, call 4: the prefill tiles with two stages of K and V (tile kt + 1 copied while tile kt is multiplied).
# (1) `qspec_test attention`; (2) `qspec_bench attention`.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library gzipped).
# The same steps as call 3, on call 4's library.
. docs/results/h100-s34/call3.sh
