#!/usr/bin/env bash
# Stages everything the GPU test run needs into .device/cudajava (git-ignored): a jlinked JRE,
# the jars, the test classes, the JUnit console launcher and libqspec_cuda.so built for sm_90a.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -DskipTests install
out=.device/cudajava
mkdir -p "$out"
../shared/device/jre.sh >/dev/null && mv .device/jre.txz "$out/jre.txz"
cp qspec-core/target/qspec-core-*-SNAPSHOT.jar "$out/qspec-core.jar"
cp qspec-cuda/target/qspec-cuda-*-SNAPSHOT.jar "$out/qspec-cuda.jar"
rm -rf "$out/test-classes" && cp -r qspec-cuda/target/test-classes "$out/test-classes"
cp qspec-cuda/target/classes/native/linux-x86_64/libqspec_cuda.so "$out/libqspec_cuda.so"
junit=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
assertj=$(sed -n 's:.*<assertj.version>\(.*\)</assertj.version>.*:\1:p' pom.xml)
./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.${junit#5.}:jar \
  -DoutputDirectory="$out/tmp" && mv "$out"/tmp/junit-platform-console-standalone-*.jar "$out/junit-console.jar"
./mvnw -B -q dependency:copy -Dartifact=org.assertj:assertj-core:$assertj:jar -DoutputDirectory="$out/tmp" \
  && mv "$out"/tmp/assertj-core-*.jar "$out/assertj-core.jar"
bb=$(ls ~/.m2/repository/net/bytebuddy/byte-buddy/ | sort -V | tail -1)
cp ~/.m2/repository/net/bytebuddy/byte-buddy/"$bb"/byte-buddy-"$bb".jar "$out/byte-buddy.jar"
rm -rf "$out/tmp"
cp qspec-cuda/scripts/run-gpu-tests.sh "$out/run-gpu-tests.sh"
echo "staged $out ($(du -sh "$out" | cut -f1)); device run: carry [\"$out\"], command: bash $out/run-gpu-tests.sh"
