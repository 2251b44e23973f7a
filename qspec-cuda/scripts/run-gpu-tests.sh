#!/usr/bin/env bash
# Runs qspec-cuda's tests on the GPU machine (which has CUDA but no Java). Stage first, here:
#   qspec-cuda/scripts/stage-gpu-tests.sh      (writes .device/cudajava, git-ignored)
# then a device run from the repository root with carry [".device/cudajava"] and the command
#   bash .device/cudajava/run-gpu-tests.sh
set -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
tar xJf "$here/jre.txz" -C /tmp
export JAVA_HOME=/tmp/jre PATH=/tmp/jre/bin:$PATH LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
cd "$here"
java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
  -Dqspec.cuda.kernels="$here/libqspec_cuda.so" -jar junit-console.jar execute \
  -cp qspec-core.jar:qspec-cuda.jar:test-classes:assertj-core.jar:byte-buddy.jar \
  --select-package io.qspec.cuda --details=tree --disable-banner --disable-ansi-colors 2>&1 | tee "${OUT:-/tmp}/gpu-tests.log"
