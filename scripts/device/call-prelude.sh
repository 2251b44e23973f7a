# Sourced by the one-call device scripts (docs/results/*/call*.sh) on the GPU machine, from the repository root
# after scripts/device/stage.sh here (carry .device/gpu): `. scripts/device/call-prelude.sh SECONDS`.
# Sets start, budget (BUDGET, or SECONDS), g (the staged tree), OUT and S ($OUT/summary.txt, appended as the call
# goes, so that it comes back even if the call is cut off), left() (seconds left of the budget) and build_bench (the
# kernel benchmark, which links cuBLAS and so is built there, into /tmp/qspec_bench), run_test and bench (below);
# puts the staged library and CUDA on the paths and the GPU's name in the summary; e2e (below) runs the end-to-end bench.
start=$(date +%s); budget=${BUDGET:-${1:-540}}
g=$(pwd)/.device/gpu
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; S=$OUT/summary.txt
left() { echo $((budget - ($(date +%s) - start))); }
export LD_LIBRARY_PATH=$g/native:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-} PATH=/usr/local/cuda/bin:$PATH
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee -a "$S"
build_bench() {
  nvcc -O2 -std=c++17 -Inative/include -gencode=arch=compute_90a,code=sm_90a native/test/qspec_bench.cu --cudart=shared \
    -o /tmp/qspec_bench -L"$g/native" -lqspec_cuda -lcublas > "$OUT/bench-build.txt" 2>&1
}
# run_test NAME NEED GROUP [VAR=value ...]: qspec_test GROUP under the variables, if NEED seconds are left; its output in
# $OUT/test-NAME.txt, the count of passes and any other lines in the summary.
run_test() {
  local name=$1 need=$2 group=$3; shift 3
  [ "$(left)" -lt "$need" ] && { echo "skipped test $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env "$@" timeout -s KILL 240 "$g/native/build/qspec_test" $group > "$OUT/test-$name.txt" 2>&1; local r=$?
  { echo "qspec_test $name ($*) rc=$r: $(grep -c ^PASS "$OUT/test-$name.txt") PASS, $(( $(date +%s) - t0 )) s"
    grep -v ^PASS "$OUT/test-$name.txt" | head -6; } | tee -a "$S"
}
# bench NAME [VAR=value ...]: the quick GEMM table at MS tokens (default 17,24,32) under the variables, into
# $OUT/bench-NAME.txt, its W4A16, draft and read-only rows to the summary; skipped once fewer than BENCH_NEED (40)
# seconds are left, each run capped at BENCH_TIMEOUT (90) s. /tmp/qspec_bench must be built (build_bench).
bench() {
  local name=$1; shift
  [ "$(left)" -lt "${BENCH_NEED:-40}" ] && { echo "skipped bench $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env QSPEC_BENCH_QUICK=1 QSPEC_BENCH_MS=${MS:-17,24,32} "$@" timeout -s KILL "${BENCH_TIMEOUT:-90}" /tmp/qspec_bench \
    > "$OUT/bench-$name.txt" 2>&1
  echo "bench $name ($*) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -E '^csv,[^,]+,[0-9]+,[0-9]+,[0-9]+,(w4a16|w4a8),|^csv,[^,]+,[0-9]+,[0-9]+,0,read_only' "$OUT/bench-$name.txt" \
    | cut -d, -f2,5,6,7 | tr '\n' ' ' >> "$S"; echo >> "$S"
}
# bench_rows NAME: the end-to-end bench's table rows (and its exit line) from stdin, prefixed with NAME, to the summary.
bench_rows() { grep -E '^(w1|w4|qspec|bench rc)' | sed "s/^/$1 /" | tee -a "$S"; }
# e2e NAME BATCHES MODES [VAR=value ...]: the end-to-end bench (random-weight Llama-3-8B shape, 64 new tokens, QSpec
# with the synthetic alpha = 0.9) at BATCHES in MODES under the variables, into $OUT/NAME; its table rows and seconds to
# the summary; skipped once fewer than E2E_NEED (45) seconds are left. E2E_REPEATS=n: each point n times, round-robin,
# the median reported with the runs' spread (bench --repeats; two runs of one call differ by 2-5 %).
e2e() {
  local name=$1 batches=$2 modes=$3; shift 3
  [ "$(left)" -lt "${E2E_NEED:-45}" ] && { echo "skipped $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env OUT=$OUT/$name "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch "$batches" --max-tokens 64 --modes "$modes" --bandwidth-gbps 3350 ${E2E_REPEATS:+--repeats $E2E_REPEATS} -- 2>&1 \
    | bench_rows "$name"
  echo "$name ($*) $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
# e2e_long NAME BATCHES MODES [VAR=value ...]: as e2e, with 2048-token prompts and 32 new tokens (prefill takes most of
# the time; the bench's verify ms per token shows the decode side); skipped once fewer than 80 seconds are left.
e2e_long() {
  local name=$1 batches=$2 modes=$3; shift 3
  [ "$(left)" -lt 80 ] && { echo "skipped $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env OUT=$OUT/$name "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch "$batches" --prompt-tokens 2048 --max-tokens 32 --modes "$modes" -- 2>&1 \
    | bench_rows "$name"
  echo "$name ($*) $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
# e2e_prompts NAME TOKENS BATCHES [VAR=value ...]: the end-to-end bench with TOKENS-token prompts and 256 new tokens at
# BATCHES, W4A16 and QSpec-A8, under the variables, into $OUT/NAME, its rows and seconds to the summary; skipped once
# fewer than E2E_NEED (45) seconds are left.
e2e_prompts() {
  local name=$1 tokens=$2 batches=$3; shift 3
  [ "$(left)" -lt "${E2E_NEED:-45}" ] && { echo "skipped $name" | tee -a "$S"; return; }
  local t0=$(date +%s)
  env OUT=$OUT/$name "$@" bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch "$batches" --prompt-tokens "$tokens" --max-tokens 256 --modes w4a16,qspec-a8 -- 2>&1 \
    | bench_rows "$name"
  echo "$name ($*) $(( $(date +%s) - t0 )) s" | tee -a "$S"
}
# junit: the qspec-cuda JUnit GPU suite (scripts/device/run.sh tests) into $OUT/junit, its counts and failures to the
# summary.
junit() {
  env OUT=$OUT/junit bash scripts/device/run.sh tests 2>&1 | grep -E "junit rc|tests (successful|failed|aborted)|✘" \
    | head -20 | tee -a "$S"
}
# junit_classes NAME CLASSES [VAR=value ...]: the JUnit GPU classes CLASSES (space-separated, e.g.
# "io.qspec.cuda.DecodeTilesGpuTest io.qspec.cuda.CudaModelRunnerGpuTest") under the variables, into $OUT/NAME, a line
# "junit NAME" and its counts and failures to the summary.
junit_classes() {
  local name=$1 classes=$2 select=""; shift 2
  for c in $classes; do select="$select --select-class $c"; done
  echo "junit $name ($*):" | tee -a "$S"
  env OUT=$OUT/$name QSPEC_JUNIT_SELECT="${select# }" "$@" bash scripts/device/run.sh tests 2>&1 \
    | grep -E "junit rc|tests (successful|failed|aborted)|✘" | head -20 | tee -a "$S"
}
# qspec_bench_mode LABEL FILE CAP PATTERN MODE [VAR=value ...]: `qspec_bench MODE` under the variables (capped at CAP
# seconds) into $OUT/FILE, a line "LABEL (variables) rc=..., seconds" and its lines matching PATTERN to the summary.
# /tmp/qspec_bench must be built (build_bench).
qspec_bench_mode() {
  local label=$1 file=$2 cap=$3 pattern=$4 mode=$5; shift 5
  local t0=$(date +%s)
  env "$@" timeout -s KILL "$cap" /tmp/qspec_bench "$mode" > "$OUT/$file" 2>&1
  echo "$label ($*) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -E "$pattern" "$OUT/$file" | tee -a "$S"
}
# attention_bench NAME [VAR=value ...]: `qspec_bench attention` (capped at 170 s) into $OUT/NAME.txt, its table to the
# summary.
attention_bench() { local name=$1; shift; qspec_bench_mode "$name" "$name.txt" 170 "^attn" attention "$@"; }
# split_benches CAP CONTEXTS: `qspec_bench attention` (decode passes, at the CONTEXTS) with the decode tiles' splits of
# 256, 128 and 64 positions (QSPEC_ATTENTION_DECODE_TILES_SPLIT), each capped at CAP seconds and skipped once fewer are
# left, into $OUT/bench-attention-SPLIT.txt. /tmp/qspec_bench must be built (build_bench).
split_benches() {
  local cap=$1 contexts=$2 sp
  for sp in 256 128 64; do
    [ "$(left)" -lt "$cap" ] && break
    qspec_bench_mode "bench attention, splits of $sp" bench-attention-$sp.txt "$cap" "^attn," attention \
      QSPEC_BENCH_DECODE_ONLY=1 QSPEC_BENCH_CONTEXTS="$contexts" QSPEC_ATTENTION_DECODE_TILES_SPLIT=$sp
  done
}
# chain NAME [VAR=value ...]: native/test/chain_bench (`make -C native chain-bench` here, carried gzipped as
# .device/chain/chain_bench.gz) over 32 layers at M = 1, 2, 4, 8 under the variables, into $OUT/chain-NAME.txt, its
# lines to the summary; skipped once fewer than 40 seconds are left, capped at 120 s.
chain() {
  local name=$1; shift
  [ "$(left)" -lt 40 ] && { echo "skipped chain $name" | tee -a "$S"; return; }
  # (unzipped every time: a warm machine may keep an earlier call's binary)
  gunzip -c .device/chain/chain_bench.gz > "$g/native/chain_bench" && chmod +x "$g/native/chain_bench"
  local t0=$(date +%s)
  env "$@" timeout -s KILL 120 "$g/native/chain_bench" 32 1,2,4,8 > "$OUT/chain-$name.txt" 2>&1
  echo "chain $name ($*) rc=$?, $(( $(date +%s) - t0 )) s" | tee -a "$S"
  grep -E "^(M=|read|chain:|census| )" "$OUT/chain-$name.txt" >> "$S"
}
# heads_bench NAME [VAR=value ...]: `qspec_bench heads` (the norm head against the norm kernel and the GEMV), capped at
# 120 s, into $OUT/bench-NAME.txt, its lines to the summary.
heads_bench() { local name=$1; shift; qspec_bench_mode "bench $name" "bench-$name.txt" 120 "^norm_head" heads "$@"; }
# A/B calls of a library against a baseline: the staged library in $g/native, the baseline's in $g/native/base/ (both
# may come gzipped; unzipped when this file is sourced). Tools that take `LD_LIBRARY_PATH=$(base_path)` load the baseline.
for f in "$g/native/libqspec_cuda.so.gz" "$g/native/base/libqspec_cuda.so.gz"; do if [ -f "$f" ]; then gunzip -f "$f"; fi; done
base_path() { echo "$g/native/base:$LD_LIBRARY_PATH"; }
# ab_tests GROUP: qspec_test GROUP with the library and with the baseline, and how many of their lines differ (the same
# bits give the same lines).
ab_tests() {
  run_test "$1" 30 "$1"
  run_test "$1-base" 30 "$1" LD_LIBRARY_PATH="$(base_path)"
  echo "test lines differing from the baseline's: $(diff <(grep -v '^device' "$OUT/test-$1.txt") \
    <(grep -v '^device' "$OUT/test-$1-base.txt") | grep -c '^[<>]')" | tee -a "$S"
}
# ab_attention_benches CONTEXTS: `qspec_bench attention` (decode and verify passes at CONTEXTS) with the library and
# with the baseline, two runs each, alternated, each capped at 30 s and skipped once fewer are left, into
# $OUT/bench-attention-{new,base}-{a,b}.txt. /tmp/qspec_bench must be built (build_bench).
ab_attention_benches() {
  local r lib extra
  for r in a b; do
    for lib in new base; do
      [ "$(left)" -lt 30 ] && break
      extra=(); [ "$lib" = base ] && extra=(LD_LIBRARY_PATH="$(base_path)")
      qspec_bench_mode "bench attention, $lib ($r)" bench-attention-$lib-$r.txt 30 "^attn," attention \
        QSPEC_BENCH_DECODE_ONLY=1 QSPEC_BENCH_CONTEXTS="$1" "${extra[@]}"
    done
  done
}
# on_base CMD...: CMD with the baseline library in the staged library's place (the JVM names the file in $g/native,
# so the files trade places for the run, and back after it).
on_base() {
  cp "$g/native/libqspec_cuda.so" /tmp/ab-new.so && cp "$g/native/base/libqspec_cuda.so" "$g/native/"
  "$@"
  cp /tmp/ab-new.so "$g/native/libqspec_cuda.so"
}
# e2e_context NAME MODES [SWAP]: the end-to-end bench with 4096-token prompts and 256 new tokens at batch 1 and 8 in
# MODES, into $OUT/NAME, its rows to the summary; SWAP=base runs it with the baseline library (on_base). Skipped once
# fewer than 70 seconds are left.
e2e_context() {
  local name=$1 modes=$2 swap=${3:-}
  [ "$(left)" -lt 70 ] && { echo "skipped $name" | tee -a "$S"; return; }
  if [ "$swap" = base ]; then on_base e2e_context "$name" "$modes"; return 0; fi
  local t0=$(date +%s)
  env OUT=$OUT/$name bash scripts/device/run.sh bench --synthetic llama-3-8b --alpha 0.9 --backend cuda \
    --batch 1,8 --prompt-tokens 4096 --max-tokens 256 --modes "$modes" -- 2>&1 \
    | bench_rows "$name"
  echo "$name $(( $(date +%s) - t0 )) s" | tee -a "$S"
  return 0
}
