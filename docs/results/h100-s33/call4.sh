#!/usr/bin/env bash
# Session 33, call 4: call 3 again after its fix (the draft head's static scales left out of the dynamic shared memory
# allowed: its launch failed with cudaErrorInvalidValue), with the same script.
# Run from the repository root after scripts/device/stage.sh here (carry .device/gpu; the library travels gzipped).
. docs/results/h100-s33/call3.sh
