// RMSNorm of the fp32 residual stream to fp16 GEMM input: y = x / sqrt(mean(x^2) + eps) * w.
#include "common.cuh"

namespace {

__global__ void rmsnorm_kernel(const float* __restrict__ x, const float* __restrict__ w, half* __restrict__ y,
                               int D, float eps) {
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    __shared__ float red[32];
    const float* row = x + (long)blockIdx.x * D;
    float ss = 0.f;
#pragma unroll 4
    for (int k = threadIdx.x; k < D; k += blockDim.x) ss += row[k] * row[k];
    const float rinv = rsqrtf(block_sum(ss, red) / D + eps);
#pragma unroll 4
    for (int k = threadIdx.x; k < D; k += blockDim.x) y[(long)blockIdx.x * D + k] = __float2half(row[k] * rinv * w[k]);
}

// Register-resident variant (D % 4 == 0, D <= 4 * 1024 * RMAX, 16-byte aligned rows): every load is
// issued before the reduction, so a decode row costs one memory latency instead of two.
constexpr int RMAX = 4;
__global__ void __launch_bounds__(1024) rmsnorm_reg_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                                          half* __restrict__ y, int D, float eps) {
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    __shared__ float red[32];
    const int n4 = D / 4;
    float4 v[RMAX], g[RMAX];
    const float rinv = rmsnorm_row_registers<RMAX>(x + (long)blockIdx.x * D, w, D, eps, v, g, red);
    half2* out = reinterpret_cast<half2*>(y + (long)blockIdx.x * D);
#pragma unroll
    for (int i = 0; i < RMAX; ++i) {
        const int c = threadIdx.x + 1024 * i;
        if (c < n4) {
            out[2 * c] = __floats2half2_rn(v[i].x * rinv * g[i].x, v[i].y * rinv * g[i].y);
            out[2 * c + 1] = __floats2half2_rn(v[i].z * rinv * g[i].z, v[i].w * rinv * g[i].w);
        }
    }
}

}  // namespace

QSPEC_API int qspec_rmsnorm_f16(const float* x, const float* w, void* y_f16, int M, int D, float eps,
                                qspec_stream_t stream) {
    if (M <= 0 || D <= 0) return 0;
    // one block per row, wide enough that a decode row (M = 1) is a few loads per thread, all in flight
    const bool reg = D % 4 == 0 && D <= 4 * 1024 * RMAX && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
                     reinterpret_cast<uintptr_t>(w) % 16 == 0 && reinterpret_cast<uintptr_t>(y_f16) % 4 == 0;
    if (reg) {
        rmsnorm_reg_kernel<<<M, 1024, 0, reinterpret_cast<cudaStream_t>(stream)>>>(x, w, static_cast<half*>(y_f16), D, eps);
        return qspec_launch_status();
    }
    rmsnorm_kernel<<<M, 1024, 0, reinterpret_cast<cudaStream_t>(stream)>>>(x, w, static_cast<half*>(y_f16), D, eps);
    return qspec_launch_status();
}
