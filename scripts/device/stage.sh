#!/usr/bin/env bash
# Stages everything one GPU-machine run needs into .device/gpu (git-ignored; the GPU machine has CUDA
# but no Java and no network): a jlinked JRE, the CLI with its libraries, the qspec-cuda test classes
# with the JUnit console, the shared test models, and libqspec_cuda.so + qspec_test built here for sm_90a.
# Then one device call, from the repository root: carry [".device/gpu"], command
#   bash scripts/device/run.sh [native] [tests] [bench ARGS...]
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
out=.device/gpu
rm -rf "$out" && mkdir -p "$out"/app "$out"/test "$out"/native
./mvnw -B -q -DskipTests -Dqspec.native.skip=true install  # the jar's kernels are dropped below: built for sm_90a only

# JRE: java.sql and java.management for Jackson; xz on an uncompressed image. Without java.desktop by default: the
# bench then saves its numbers and says its charts were not drawn (render them here: ./qspec bench --charts-from DIR
# --out DIR2), and the JRE is 16.0 MB instead of 22.7, room the 64 MiB of a device call needs (the JUnit GPU suite and
# the bench ran on this JRE on an H100 in session 44). STAGE_CHARTS=1 keeps java.desktop and brings fonts for the charts.
modules=java.base,java.logging,java.net.http,jdk.unsupported,jdk.incubator.vector,java.sql,java.management,jdk.jfr
[ "${STAGE_CHARTS:-0}" = 1 ] && modules=$modules,java.desktop
tmp=$(mktemp -d)
"$JAVA_HOME/bin/jlink" --add-modules "$modules" \
  --strip-debug --no-man-pages --no-header-files --compress=zip-0 --output "$tmp/jre" 2>/dev/null
if [ "${STAGE_CHARTS:-0}" = 1 ]; then
  # the GPU machine has fontconfig but no fonts: bring two, and a fonts.conf that names them (run.sh sets FONTCONFIG_FILE)
  mkdir -p "$tmp/jre/lib/fonts"
  cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf "$tmp/jre/lib/fonts/"
  printf '<?xml version="1.0"?>\n<fontconfig><dir>/tmp/jre/lib/fonts</dir><cachedir>/tmp/fontcache</cachedir></fontconfig>\n' \
    > "$tmp/jre/lib/fonts/fonts.conf"
fi
tar cf - -C "$tmp" jre | xz -9 -T0 > "$out/jre.txz"
rm -rf "$tmp"

# the CLI and its runtime libraries, without the Jlama peer (a CPU-only comparison), JMH (CPU kernel benchmarks) and
# xchart's vector-format encoders (the charts are PNG), and without the kernel library inside the qspec-cuda jar
# (run.sh names the staged one); the peers' jars stay here: the staged tree with the tracked files must stay under the device tool's 64 MiB
cp qspec-examples/target/qspec-examples-*-SNAPSHOT.jar "$out/app/qspec-examples.jar"
for j in qspec-examples/target/lib/*.jar; do
  case "$(basename "$j")" in
    jlama-*|jemoji-*|jackson-databind-2.15*|jafama-*|jctools-*) ;;
    llama-[0-9]*) ;;   # llama.cpp's CPU build (de.kherud:llama, 12 MB), for qspec peer-llamacpp, which runs off the GPU machine
    # the chat templates' engine (jinjava, for `qspec chat`) and what only it and the peers pull in: the device's bench
    # and JUnit suite run without them (session 26), and with them the staged tree and the tracked files near 64 MiB
    jinjava-*|javassist-*|commons-net-*|re2j-*|java-ipv6-*|big-math-*|jackson-dataformat-yaml-*|snakeyaml-*) ;;
    commons-lang3-*|commons-logging-*) ;;
    jmh-core-*|commons-math3-*|jopt-simple-*|pdfbox-*|fontbox-*|graphics2d-*|VectorGraphics2D-*) ;;
    *) cp "$j" "$out/app/" ;;
  esac
done
zip -q -d "$out"/app/qspec-cuda-*.jar 'native/*' >/dev/null || true  # none where the build skipped the kernels

# the GPU test suite
cp -r qspec-cuda/target/test-classes "$out/test/classes"
junit=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.${junit#5.}:jar \
  -DoutputDirectory="$out/tmp"
mv "$out"/tmp/junit-platform-console-standalone-*.jar "$out/test/junit-console.jar"
rm -rf "$out/tmp"
cp ~/.m2/repository/org/assertj/assertj-core/*/assertj-core-*.jar "$out/test/" 2>/dev/null || true

cp -r ../shared/models "$out/models"

# native: the library and the correctness test for sm_90a (the benchmark links cuBLAS, so it is built there)
make -s -C native OUT="$root/$out/native" BUILD="$root/$out/native/build" \
  ARCHS="-gencode=arch=compute_90a,code=sm_90a" "$root/$out/native/build/qspec_test" >/dev/null
rm -rf "$out/native/build/obj"
# gzipped (11 MB -> ~3 MB): with it unzipped the staged tree and the tracked files pass the device tool's 64 MiB
# (session 42); run.sh and call-prelude.sh unzip it on the GPU machine
gzip -f "$out/native/libqspec_cuda.so"
echo "staged $out ($(du -sh "$out" | cut -f1); with the tracked files $(( ($(du -sb "$out" | cut -f1) + $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)) >> 20 )) MiB of the 64 MiB that may travel)"
