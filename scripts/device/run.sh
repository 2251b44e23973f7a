#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, after scripts/device/stage.sh here. Phases:
#   native          kernel correctness test (float64 references) and the kernel benchmark
#   native-test     the kernel correctness test alone
#   native-bench M  one mode M of the kernel benchmark (attention, rope-attention, epilogues, sweep, sampling), $OUT/native-bench-M.txt
#   tests           the qspec-cuda JUnit suite (random models and the shared models; QSPEC_JUNIT_SELECT, e.g.
#                   "--select-class io.qspec.cuda.DecodeTilesGpuTest", runs a part of it)
#   profile         Nsight Compute sections of the GEMM kernels at a few Llama-3-8B shapes ($OUT/ncu.txt)
#   peer            the PyTorch decode peer (qspec-examples/scripts/pytorch_llama_decode.py), $OUT/peer
#   timeline ARGS.. ./qspec bench ARGS under Nsight Compute: the duration of every kernel of a window of
#                   launches ($OUT/timeline.csv; QSPEC_SKIP / QSPEC_COUNT choose the window; QSPEC_NCU_WARM=1: warm
#                   caches and the GPU's own clocks, --cache-control none --clock-control none, instead of ncu's flush
#                   and locked clocks)
#   bench ARGS...   ./qspec bench ARGS (QSPEC_JFR=1: with a Flight Recorder profile, $OUT/bench/rec.jfr) (e.g. --synthetic llama-3-8b --alpha 0.9 ...), output under $OUT/bench
# QSPEC_STAGE=DIR runs from another staged tree (e.g. a copy with a branch's library and jars laid over).
# Logs go to $OUT. Each phase runs even if an earlier one failed; the exit code is the first failure.
# The device tool brings back at most 8 files of $OUT: end a call that writes more with
#   tar czf "$OUT/all.tgz" -C "$OUT" --exclude all.tgz .
# (a top-level file comes back before the folders' files).
set -o pipefail
g=${QSPEC_STAGE:-$(pwd)/.device/gpu}
# the staged library travels gzipped (stage.sh: the tree must stay under the device tool's 64 MiB)
if [ -f "$g/native/libqspec_cuda.so.gz" ]; then gunzip -f "$g/native/libqspec_cuda.so.gz"; fi
# the kernel benchmark's sources: a staged branch's own (scripts/device/stage-branch.sh), else this checkout's
bsrc=$(pwd)/native
[ -d "$g/native/bench-src" ] && bsrc=$g/native/bench-src
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
rc=0
# A hung kernel must cost one phase, not the whole call, and leave the output before it: every phase runs
# under a timeout (SIGKILL for the kernel test; the JVM gets SIGTERM, then SIGKILL 10 s later) with
# line-buffered output. QSPEC_TEST_TIMEOUT: seconds per qspec_test run (default 240).
lines=(); command -v stdbuf > /dev/null && lines=(stdbuf -oL -eL)
capped_test=(timeout -s KILL "${QSPEC_TEST_TIMEOUT:-240}" "${lines[@]}")
# the kernel benchmark links cuBLAS, which only the GPU machine has: built there, into /tmp/qspec_bench
build_bench() {
  nvcc -O2 -std=c++17 -I"$bsrc/include" -gencode=arch=compute_90a,code=sm_90a "$bsrc/test/qspec_bench.cu" --cudart=shared \
    -o /tmp/qspec_bench -L"$g/native" -lqspec_cuda -lcublas
}
tar xJf "$g/jre.txz" -C /tmp
export FONTCONFIG_FILE=/tmp/jre/lib/fonts/fonts.conf JAVA_HOME=/tmp/jre PATH=/tmp/jre/bin:/usr/local/cuda/bin:$PATH
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
java_opts=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Djava.awt.headless=true
           -Dqspec.cuda.kernels="$g/native/libqspec_cuda.so" -XX:+UseParallelGC)
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee "$OUT/gpu.txt"
while [ $# -gt 0 ]; do
  phase=$1; shift
  case $phase in
    native)
      echo "== native: kernel tests"
      "${capped_test[@]}" "$g/native/build/qspec_test" > "$OUT/native-test.txt" 2>&1; r=$?
      echo "qspec_test rc=$r, $(grep -c ^PASS "$OUT/native-test.txt") PASS"; grep -v ^PASS "$OUT/native-test.txt" | head -40
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r
      # again with the tiled GEMMs for every M (the default takes them only for grids that fill the GPU)
      QSPEC_TILED_GEMM_MIN_M=1 "${capped_test[@]}" "$g/native/build/qspec_test" > "$OUT/native-test-tiled.txt" 2>&1; r=$?
      echo "qspec_test (QSPEC_TILED_GEMM_MIN_M=1) rc=$r, $(grep -c ^PASS "$OUT/native-test-tiled.txt") PASS"
      grep -v ^PASS "$OUT/native-test-tiled.txt" | head -20
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r
      # and with the tiled kernels' two-CTA build, which large grids take and the test's small grids
      # otherwise leave to the one-CTA build, and with one block per sampling draw (sm_90 takes clusters)
      QSPEC_TILED_GEMM_MIN_M=1 QSPEC_TILED_MINB=2 QSPEC_SAMPLE_CLUSTER=1 "${capped_test[@]}" "$g/native/build/qspec_test" \
        > "$OUT/native-test-two-cta.txt" 2>&1; r=$?
      echo "qspec_test (QSPEC_TILED_MINB=2 QSPEC_SAMPLE_CLUSTER=1) rc=$r, $(grep -c ^PASS "$OUT/native-test-two-cta.txt") PASS"
      grep -v ^PASS "$OUT/native-test-two-cta.txt" | head -20
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r
      # and with the bulk-copy GEMVs for every M <= 8 and N, one row tile per CTA (the default takes two
      # from M = 2, and only for N >= 4096)
      QSPEC_BULK_GEMV=all QSPEC_BULK_ROWS=16 "${capped_test[@]}" "$g/native/build/qspec_test" > "$OUT/native-test-bulk-all.txt" 2>&1; r=$?
      echo "qspec_test (QSPEC_BULK_GEMV=all QSPEC_BULK_ROWS=16) rc=$r, $(grep -c ^PASS "$OUT/native-test-bulk-all.txt") PASS"
      grep -v ^PASS "$OUT/native-test-bulk-all.txt" | head -20
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r
      # and the bulk-copy GEMVs' cases on a ring of 2 chunks, three times: the depth at which an entry released before
      # its reads had completed gave wrong outputs in most runs (docs/KERNELS.md, 2026-12-04)
      for i in 1 2 3; do
        QSPEC_BULK_RING=2 "${capped_test[@]}" "$g/native/build/qspec_test" bulk > "$OUT/native-test-ring2-$i.txt" 2>&1; r=$?
        echo "qspec_test bulk (QSPEC_BULK_RING=2) #$i rc=$r, $(grep -c ^PASS "$OUT/native-test-ring2-$i.txt") PASS"
        grep -v ^PASS "$OUT/native-test-ring2-$i.txt" | head -10
        [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r
      done
      # and the bulk-copy GEMVs without kept tokens (session 23 keeps them where four row tiles walk), and with every
      # walkable grid walking 2 tiles a CTA
      for keep in 0 1; do
        QSPEC_BULK_KEEP=$keep QSPEC_BULK_WALK=$((2 - keep)) "${capped_test[@]}" "$g/native/build/qspec_test" bulk \
          > "$OUT/native-test-keep$keep.txt" 2>&1; r=$?
        echo "qspec_test bulk (QSPEC_BULK_KEEP=$keep QSPEC_BULK_WALK=$((2 - keep))) rc=$r, $(grep -c ^PASS "$OUT/native-test-keep$keep.txt") PASS"
        grep -v ^PASS "$OUT/native-test-keep$keep.txt" | head -10
        [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r
      done
      # and the W4A16 bulk GEMVs with K split over a cluster of two CTAs wherever they run (session 23, off by default)
      QSPEC_BULK_SPLIT=all "${capped_test[@]}" "$g/native/build/qspec_test" bulk > "$OUT/native-test-split.txt" 2>&1; r=$?
      echo "qspec_test bulk (QSPEC_BULK_SPLIT=all) rc=$r, $(grep -c ^PASS "$OUT/native-test-split.txt") PASS"
      grep -v ^PASS "$OUT/native-test-split.txt" | head -10
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r
      # and the verify GEMM's warpgroup kernel at every M on 32-token tiles, unsplit or split 8 ways where the grid
      # is small, then in clusters of 4 and of 2 CTAs
      for split in 0 4 2; do
        QSPEC_WGMMA_VERIFY=all QSPEC_WGMMA_VERIFY_BN=32 QSPEC_WGMMA_VERIFY_SPLIT=$split "${capped_test[@]}" \
          "$g/native/build/qspec_test" verify > "$OUT/native-test-verify-bn32-split$split.txt" 2>&1; r=$?
        echo "qspec_test verify (QSPEC_WGMMA_VERIFY=all, BN=32, SPLIT=$split) rc=$r, $(grep -c ^PASS "$OUT/native-test-verify-bn32-split$split.txt") PASS"
        grep -v ^PASS "$OUT/native-test-verify-bn32-split$split.txt" | head -10
        [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r
      done
      echo "== native: kernel benchmark"
      build_bench && timeout -s KILL 150 "${lines[@]}" /tmp/qspec_bench > "$OUT/native-bench.txt" 2>&1
      r=$?; echo "qspec_bench rc=$r"; grep -v '^csv' "$OUT/native-bench.txt" | tail -48
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r ;;
    native-bench)
      # native-bench MODE: one mode of the kernel benchmark (attention, rope-attention, epilogues, sweep, sampling, profile)
      mode=$1; shift
      echo "== native: qspec_bench $mode"
      build_bench && timeout -s KILL 240 "${lines[@]}" /tmp/qspec_bench "$mode" > "$OUT/native-bench-$mode.txt" 2>&1
      r=$?; echo "qspec_bench $mode rc=$r"; tail -40 "$OUT/native-bench-$mode.txt"
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r
      ;;
    native-test)
      echo "== native: kernel tests${QSPEC_S4:+ (QSPEC_S4=$QSPEC_S4)}"
      "${capped_test[@]}" "$g/native/build/qspec_test" > "$OUT/native-test${QSPEC_S4:+-s4}.txt" 2>&1; r=$?
      echo "qspec_test rc=$r, $(grep -c ^PASS "$OUT/native-test${QSPEC_S4:+-s4}.txt") PASS"
      grep -v ^PASS "$OUT/native-test${QSPEC_S4:+-s4}.txt" | head -20
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r ;;
    profile)
      echo "== ncu profile of the GEMMs"
      [ -x /tmp/qspec_bench ] || build_bench
      # the full set, kept as a report ($OUT/gemm.ncu-rep: open it in Nsight Compute), and its text pages
      timeout -k 10 300 ncu --set full --import-source no -k regex:w4 -o "$OUT/gemm" /tmp/qspec_bench profile > "$OUT/ncu-run.txt" 2>&1
      r=$?; echo "ncu rc=$r"
      ncu --import "$OUT/gemm.ncu-rep" --print-details all > "$OUT/ncu.txt" 2>&1
      grep -E "w4a|w4ax|Duration|Memory Throughput|DRAM Throughput|L1/TEX Hit|L2 Hit|Achieved Occupancy|Registers Per|Executed Ipc A|Issue Slots Busy|Stall|Block Limit Reg" "$OUT/ncu.txt" | head -150
      # per-instruction stall samples (SASS) of every profiled kernel, for the hot loops
      ncu --import "$OUT/gemm.ncu-rep" --page source --print-source sass --csv > "$OUT/ncu-sass.csv" 2>&1
      echo "sass page: $(wc -l < "$OUT/ncu-sass.csv") lines"
      cuobjdump -sass "$g/native/libqspec_cuda.so" > "$OUT/sass.txt" 2>&1; echo "cuobjdump rc=$?" ;;
    peer)
      echo "== PyTorch peer"
      mkdir -p "$OUT/peer"
      PYTHONUNBUFFERED=1 timeout -k 10 300 python3 qspec-examples/scripts/pytorch_llama_decode.py --out "$OUT/peer" 2>&1 | tee "$OUT/peer/stdout.txt" | tail -20
      r=${PIPESTATUS[0]}; echo "peer rc=$r"
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r ;;
    tests)
      echo "== qspec-cuda JUnit suite"
      tlog="$OUT/gpu-tests${QSPEC_S4:+-s4}.txt"
      (cd "$g/test" && timeout -k 10 300 java "${java_opts[@]}" -Dqspec.models.dir="$g/models" -jar junit-console.jar execute \
        -cp "$(ls "$g"/app/*.jar *.jar | grep -v junit-console | tr '\n' ':')classes" ${QSPEC_JUNIT_SELECT:---select-package io.qspec.cuda} \
        --details=tree --disable-banner --disable-ansi-colors) > "$tlog" 2>&1; r=$?
      echo "junit rc=$r"; grep -E "MethodSource|✘|tests (successful|failed|aborted)|GPU|relative|QSpec =|part at|greedy =" "$tlog" | head -60
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r ;;
    timeline)
      args=()
      while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
      [ "${1:-}" = "--" ] && shift
      echo "== timeline of ${args[*]}"
      mkdir -p /tmp/tl
      warm=(); [ -n "${QSPEC_NCU_WARM:-}" ] && warm=(--cache-control none --clock-control none)
      timeout -k 10 300 ncu --graph-profiling node "${warm[@]}" --metrics gpu__time_duration.sum --launch-skip "${QSPEC_SKIP:-6000}" \
        --launch-count "${QSPEC_COUNT:-1000}" --csv --log-file "$OUT/timeline.csv" \
        java "${java_opts[@]}" -Xmx100g -cp "$g/app/*" io.qspec.examples.cli.QSpecCli bench "${args[@]}" --out /tmp/tl \
        > "$OUT/timeline-stdout.txt" 2>&1
      r=$?; echo "timeline rc=$r, $(wc -l < "$OUT/timeline.csv") lines"; tail -5 "$OUT/timeline-stdout.txt" ;;
    bench)
      args=()
      while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
      [ "${1:-}" = "--" ] && shift
      echo "== bench ${args[*]}"
      mkdir -p "$OUT/bench"
      jfr=(); [ -n "${QSPEC_JFR:-}" ] && jfr=(-XX:StartFlightRecording=filename=$OUT/bench/rec.jfr,settings=profile)
      timeout -k 10 300 java "${java_opts[@]}" "${jfr[@]}" -Xmx100g -cp "$g/app/*" io.qspec.examples.cli.QSpecCli bench "${args[@]}" \
        --out "$OUT/bench" > "$OUT/bench/stdout.txt" 2> "$OUT/bench/stderr.txt"; r=$?
      echo "bench rc=$r"; cat "$OUT/bench/stdout.txt" | tail -40; tail -15 "$OUT/bench/stderr.txt"
      [ $r -ne 0 ] && [ $rc -eq 0 ] && rc=$r ;;
    *) echo "unknown phase '$phase' (native, tests, bench ARGS... --)"; exit 2 ;;
  esac
done
exit $rc
