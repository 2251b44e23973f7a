// RMSNorm of the fp32 residual stream to fp16 GEMM input: y = x / sqrt(mean(x^2) + eps) * w.
#include "norm_rows.cuh"

namespace {

// order: of the output rows (token_order.cuh).
__global__ void rmsnorm_kernel(const float* __restrict__ x, const float* __restrict__ w, half* __restrict__ y,
                               int D, float eps, int order) {
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    __shared__ float red[32];
    const float* row = x + (long)blockIdx.x * D;
    float ss = 0.f;
#pragma unroll 4
    for (int k = threadIdx.x; k < D; k += blockDim.x) ss += row[k] * row[k];
    const float rinv = rsqrtf(block_sum(ss, red) / D + eps);
#pragma unroll 4
    for (int k = threadIdx.x; k < D; k += blockDim.x)
        token_order::store_half(y + (long)blockIdx.x * D, k, __float2half(row[k] * rinv * w[k]), order);
}

// Register-resident variant (rms::fits_registers): every load is issued before the reduction, so a decode row
// costs one memory latency instead of two. Its order of sums is norm_rows.cuh's, which the GEMVs' norm tail repeats.
__global__ void __launch_bounds__(rms::ROW_THREADS) rmsnorm_reg_kernel(const float* __restrict__ x,
                                                                       const float* __restrict__ w,
                                                                       half* __restrict__ y, int D, float eps,
                                                                       int order) {
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    __shared__ float red[32];
    const int n4 = D / 4;
    float4 v[rms::RMAX], g[rms::RMAX];
    const float rinv = rms::row_registers(x + (long)blockIdx.x * D, w, D, eps, v, g, red);
#pragma unroll
    for (int i = 0; i < rms::RMAX; ++i) {
        const int c = threadIdx.x + rms::ROW_THREADS * i;
        if (c < n4) rms::store_half4(y + (long)blockIdx.x * D, c, v[i], rinv, g[i], order);
    }
}

}  // namespace

QSPEC_API int qspec_rmsnorm_f16(const float* x, const float* w, void* y_f16, int M, int D, float eps, int out_order,
                                qspec_stream_t stream) {
    if (!token_order::writable(out_order, D)) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || D <= 0) return 0;
    // one block per row, wide enough that a decode row (M = 1) is a few loads per thread, all in flight
    const bool reg = rms::fits_registers(D, x, w) && reinterpret_cast<uintptr_t>(y_f16) % 4 == 0;
    if (reg) {
        rmsnorm_reg_kernel<<<M, rms::ROW_THREADS, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
            x, w, static_cast<half*>(y_f16), D, eps, out_order);
        return qspec_launch_status();
    }
    rmsnorm_kernel<<<M, 1024, 0, reinterpret_cast<cudaStream_t>(stream)>>>(x, w, static_cast<half*>(y_f16), D, eps,
                                                                           out_order);
    return qspec_launch_status();
}
