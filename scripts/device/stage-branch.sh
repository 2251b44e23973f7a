#!/usr/bin/env bash
# Stages a branch (or any commit) as an overlay of .device/gpu, for trying it in the same device call
# as main: .device/NAME gets the branch's qspec jars, qspec-cuda test classes, libqspec_cuda.so and
# qspec_test (sm_90a); the JRE, the other jars and the models stay those of .device/gpu (run
# scripts/device/stage.sh first). Builds in a temporary worktree and installs nothing into ~/.m2.
#   scripts/device/stage-branch.sh NAME [REF]        (REF defaults to NAME)
# Then, in the device call (carry [".device/gpu", ".device/NAME"]):
#   cp -r .device/gpu /tmp/NAME && cp -r .device/NAME/. /tmp/NAME/ &&
#   QSPEC_STAGE=/tmp/NAME OUT=$OUT/NAME bash scripts/device/run.sh native-test tests bench ... --
# The branch's kernel benchmark sources travel too (.device/NAME/native/bench-src), so the native and
# profile phases build qspec_bench against the branch's header.
set -euo pipefail
name=${1:?usage: stage-branch.sh NAME [REF]}
ref=${2:-$name}
root=$(git rev-parse --show-toplevel)
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -d .device/gpu ] || { echo "stage-branch.sh: run scripts/device/stage.sh first (.device/gpu is missing)" >&2; exit 2; }
tree=$(mktemp -d)/tree
git worktree add -q --detach "$tree" "$ref"
trap 'git worktree remove --force "$tree"' EXIT
out="$root/.device/$name"
rm -rf "$out" && mkdir -p "$out/app" "$out/test" "$out/native"
(cd "$tree" && ./mvnw -B -q -o package -DskipTests)
for m in qspec-core qspec-cuda qspec-chat; do cp "$tree/$m/target/$m"-*-SNAPSHOT.jar "$out/app/"; done
cp "$tree"/qspec-examples/target/qspec-examples-*-SNAPSHOT.jar "$out/app/qspec-examples.jar"
cp -r "$tree/qspec-cuda/target/test-classes" "$out/test/classes"
make -s -C "$tree/native" OUT="$out/native" BUILD="$out/native/build" ARCHS="-gencode=arch=compute_90a,code=sm_90a" \
  "$out/native/build/qspec_test" >/dev/null
rm -rf "$out/native/build/obj"
mkdir -p "$out/native/bench-src/test"
cp -r "$tree/native/include" "$out/native/bench-src/"
cp "$tree/native/test/qspec_bench.cu" "$tree/native/test/common.h" "$out/native/bench-src/test/"
echo "staged $ref as .device/$name ($(du -sh "$out" | cut -f1))"
