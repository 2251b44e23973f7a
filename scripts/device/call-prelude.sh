# Sourced by the one-call device scripts (docs/results/*/call*.sh) on the GPU machine, from the repository root
# after scripts/device/stage.sh here (carry .device/gpu): `. scripts/device/call-prelude.sh SECONDS`.
# Sets start, budget (BUDGET, or SECONDS), g (the staged tree), OUT and S ($OUT/summary.txt, appended as the call
# goes, so that it comes back even if the call is cut off), left() (seconds left of the budget) and build_bench (the
# kernel benchmark, which links cuBLAS and so is built there, into /tmp/qspec_bench); puts the staged library and
# CUDA on the paths and the GPU's name in the summary.
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
