// Draft-path activation quantization: symmetric, per token and per group of `group` inputs along K,
// scale = absmax / qmax (qmax 127 for A8, 7 for A4 held in int8), q = rint(x / scale).
// Output rows are Kp = ceil(K/group)*group long with the padding zeroed, as the draft GEMM reads them.
#include "common.cuh"

namespace {

// One warp quantizes one group of one row; `v(e)` yields input e of the group (0 past K).
template <typename F>
__device__ __forceinline__ void quantize_group(F v, int group, float qmax, int8_t* out, float* scale) {
    const int lane = threadIdx.x & 31;
    float amax = 0.f;
    for (int e = lane; e < group; e += 32) amax = fmaxf(amax, fabsf(v(e)));
    amax = warp_max(amax);
    const float s = amax / qmax;
    const float inv = amax > 0.f ? qmax / amax : 0.f;
    for (int e = lane; e < group; e += 32) {
        const float q = fminf(fmaxf(rintf(v(e) * inv), -qmax), qmax);
        out[e] = (int8_t)q;
    }
    if (lane == 0) *scale = s;
}

__global__ void quantize_kernel(const half* __restrict__ x, int ldx, int M, int K, int group, float qmax,
                                int8_t* __restrict__ xq, float* __restrict__ xs) {
    const int groups = (K + group - 1) / group, Kp = groups * group;
    const int item = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (item >= M * groups) return;
    const int m = item / groups, gi = item % groups, k0 = gi * group;
    const half* row = x + (long)m * ldx;
    quantize_group([&](int e) { return k0 + e < K ? __half2float(row[k0 + e]) : 0.f; }, group, qmax,
                   xq + (long)m * Kp + k0, xs + (long)m * groups + gi);
}

// One block per row: RMS statistic, then every warp quantizes groups of x * rinv * w.
__global__ void rmsnorm_quantize_kernel(const float* __restrict__ x, const float* __restrict__ w, int D,
                                        int group, float qmax, float eps, int8_t* __restrict__ xq,
                                        float* __restrict__ xs) {
    __shared__ float red[32];
    const int m = blockIdx.x, groups = (D + group - 1) / group, Kp = groups * group;
    const float* row = x + (long)m * D;
    float ss = 0.f;
#pragma unroll 4
    for (int k = threadIdx.x; k < D; k += blockDim.x) ss += row[k] * row[k];
    const float rinv = rsqrtf(block_sum(ss, red) / D + eps);
    for (int gi = threadIdx.x >> 5; gi < groups; gi += blockDim.x >> 5) {
        const int k0 = gi * group;
        quantize_group([&](int e) { return k0 + e < D ? row[k0 + e] * rinv * w[k0 + e] : 0.f; }, group, qmax,
                       xq + (long)m * Kp + k0, xs + (long)m * groups + gi);
    }
}

}  // namespace

QSPEC_API int qspec_quantize_activations(const void* x_f16, int ldx, int M, int K, int group, int bits,
                                         int8_t* xq, float* xscale, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || (bits != 8 && bits != 4)) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || K <= 0) return 0;
    const int items = M * ceil_div(K, group);
    quantize_kernel<<<ceil_div(items, 8), 256, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        static_cast<const half*>(x_f16), ldx, M, K, group, bits == 8 ? 127.f : 7.f, xq, xscale);
    return qspec_launch_status();
}

QSPEC_API int qspec_rmsnorm_quantize(const float* x, const float* w, int8_t* xq, float* xscale, int M, int D,
                                     int group, int bits, float eps, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || (bits != 8 && bits != 4)) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || D <= 0) return 0;
    rmsnorm_quantize_kernel<<<M, 1024, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        x, w, D, group, bits == 8 ? 127.f : 7.f, eps, xq, xscale);
    return qspec_launch_status();
}
