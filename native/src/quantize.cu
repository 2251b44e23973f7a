// Draft-path activation quantization: symmetric, per token and per group of `group` inputs along K,
// scale = absmax / qmax (qmax 127 for A8, 7 for A4 held in int8), q = rint(x / scale).
// Output rows are Kp = ceil(K/group)*group long with the padding zeroed, as the draft GEMM reads them.
#include "norm_rows.cuh"

namespace {

// One warp quantizes one group of one row; `v(e)` yields input e of the group (0 past K). row: the row's codes, k0
// the group's first input, order: the row's (token_order.cuh).
template <typename F>
__device__ __forceinline__ void quantize_group(F v, int group, float qmax, int8_t* row, int k0, int order,
                                               float* scale) {
    const int lane = threadIdx.x & 31;
    float amax = 0.f;
    for (int e = lane; e < group; e += 32) amax = fmaxf(amax, fabsf(v(e)));
    amax = warp_max(amax);
    const float s = amax / qmax;
    const float inv = amax > 0.f ? qmax / amax : 0.f;
    for (int e = lane; e < group; e += 32) {
        const float q = fminf(fmaxf(rintf(v(e) * inv), -qmax), qmax);
        row[order == QSPEC_TOKENS_ROW ? k0 + e : token_order::draft_position(k0 + e)] = (int8_t)q;
    }
    if (lane == 0) *scale = s;
}

// quantize_group for a group of 128 held in registers, lane l holding inputs 4l .. 4l+3: the same
// values, with every load issued before the reduction and the codes stored 4 per lane (one memory
// latency per group where quantize_group's loops take several).
__device__ __forceinline__ void quantize_group128(const float (&a)[4], float qmax, int8_t* row, int k0, int order,
                                                  float* scale) {
    const int lane = threadIdx.x & 31;
    const float amax = warp_max(fmaxf(fmaxf(fabsf(a[0]), fabsf(a[1])), fmaxf(fabsf(a[2]), fabsf(a[3]))));
    token_order::store_codes4(row, k0 + 4 * lane, rms::pack_codes4(a, amax > 0.f ? qmax / amax : 0.f, qmax), order);
    if (lane == 0) *scale = amax / qmax;
}

// vec: group 128, K % 128 == 0, rows of x 8-byte aligned, xq 4-byte aligned (quantize_group128). order: of xq's rows.
__global__ void quantize_kernel(const half* __restrict__ x, int ldx, int M, int K, int group, float qmax,
                                int8_t* __restrict__ xq, float* __restrict__ xs, bool vec, int order) {
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    const int groups = (K + group - 1) / group, Kp = groups * group;
    const int item = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (item >= M * groups) return;
    const int m = item / groups, gi = item % groups, k0 = gi * group;
    const half* row = x + (long)m * ldx;
    if (vec) {
        const uint2 h = *reinterpret_cast<const uint2*>(row + k0 + 4 * (threadIdx.x & 31));
        const float2 lo = __half22float2(*reinterpret_cast<const half2*>(&h.x));
        const float2 hi = __half22float2(*reinterpret_cast<const half2*>(&h.y));
        const float a[4] = {lo.x, lo.y, hi.x, hi.y};
        quantize_group128(a, qmax, xq + (long)m * Kp, k0, order, xs + (long)m * groups + gi);
        return;
    }
    quantize_group([&](int e) { return k0 + e < K ? __half2float(row[k0 + e]) : 0.f; }, group, qmax,
                   xq + (long)m * Kp, k0, order, xs + (long)m * groups + gi);
}

// One block per row: RMS statistic, then every warp quantizes groups of x * rinv * w.
__global__ void rmsnorm_quantize_kernel(const float* __restrict__ x, const float* __restrict__ w, int D,
                                        int group, float qmax, float eps, int8_t* __restrict__ xq,
                                        float* __restrict__ xs, int order) {
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
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
                       xq + (long)m * Kp, k0, order, xs + (long)m * groups + gi);
    }
}

// Register-resident variant (rms::fits_registers, rms::fits_register_groups): thread i holds inputs 4i .. 4i+3
// (+ 4096 per round), so a group is group/4 adjacent lanes of one warp; all loads are issued before the reduction
// (one memory latency per decode row instead of three). Its order of sums is norm_rows.cuh's, which the draft
// GEMV's norm tail repeats.
__global__ void __launch_bounds__(rms::ROW_THREADS) rmsnorm_quantize_reg_kernel(const float* __restrict__ x,
                                                                                const float* __restrict__ w, int D,
                                                                                int group, float qmax, float eps,
                                                                                int8_t* __restrict__ xq,
                                                                                float* __restrict__ xs, int order) {
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    __shared__ float red[32];
    const int m = blockIdx.x, n4 = D / 4;
    float4 v[rms::RMAX], g[rms::RMAX];
    const float rinv = rms::row_registers(x + (long)m * D, w, D, eps, v, g, red);
#pragma unroll
    for (int i = 0; i < rms::RMAX; ++i) {
        const int c = threadIdx.x + rms::ROW_THREADS * i;
        if (rms::ROW_THREADS * i >= n4) break;  // block-uniform: the shuffles need whole warps
        rms::store_codes4(xq + (long)m * D, xs + (long)m * (D / group), c, c < n4, v[i], rinv, g[i], group, qmax,
                          order);
    }
}

// SwiGLU fused with the quantization of its output (the draft's down-projection input): one warp per
// group, the same values as qspec_swiglu_f16 followed by qspec_quantize_activations.
// vec: group 128, H % 128 == 0, rows of gate and up 16-byte aligned, xq 4-byte aligned (quantize_group128).
__global__ void swiglu_quantize_kernel(const float* __restrict__ gate, const float* __restrict__ up, int ld, int M,
                                       int H, int group, float qmax, int8_t* __restrict__ xq, float* __restrict__ xs,
                                       bool vec, int order) {
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    const int groups = (H + group - 1) / group, Hp = groups * group;
    const int item = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (item >= M * groups) return;
    const int m = item / groups, gi = item % groups, k0 = gi * group;
    const float* g = gate + (long)m * ld;
    const float* u = up + (long)m * ld;
    if (vec) {
        const int k = k0 + 4 * (threadIdx.x & 31);
        const float4 gv = *reinterpret_cast<const float4*>(g + k), uv = *reinterpret_cast<const float4*>(u + k);
        const float a[4] = {__half2float(swiglu_f16(gv.x, uv.x)), __half2float(swiglu_f16(gv.y, uv.y)),
                            __half2float(swiglu_f16(gv.z, uv.z)), __half2float(swiglu_f16(gv.w, uv.w))};
        quantize_group128(a, qmax, xq + (long)m * Hp, k0, order, xs + (long)m * groups + gi);
        return;
    }
    quantize_group([&](int e) { return k0 + e < H ? __half2float(swiglu_f16(g[k0 + e], u[k0 + e])) : 0.f; }, group,
                   qmax, xq + (long)m * Hp, k0, order, xs + (long)m * groups + gi);
}

}  // namespace

QSPEC_API int qspec_swiglu_quantize(const float* gate, const float* up, int ld, int M, int H, int group, int bits,
                                    int8_t* xq, float* xscale, int out_order, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || (bits != 8 && bits != 4) || ld < H) return QSPEC_ERR_UNSUPPORTED;
    if (!token_order::writable(out_order, H)) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || H <= 0) return 0;
    const int items = M * ceil_div(H, group);
    const bool vec = group == 128 && H % 128 == 0 && ld % 4 == 0 && reinterpret_cast<uintptr_t>(gate) % 16 == 0 &&
                     reinterpret_cast<uintptr_t>(up) % 16 == 0 && reinterpret_cast<uintptr_t>(xq) % 4 == 0;
    swiglu_quantize_kernel<<<ceil_div(items, 8), 256, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        gate, up, ld, M, H, group, bits == 8 ? 127.f : 7.f, xq, xscale, vec, out_order);
    return qspec_launch_status();
}

QSPEC_API int qspec_quantize_activations(const void* x_f16, int ldx, int M, int K, int group, int bits,
                                         int8_t* xq, float* xscale, int out_order, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || (bits != 8 && bits != 4)) return QSPEC_ERR_UNSUPPORTED;
    if (!token_order::writable(out_order, K)) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || K <= 0) return 0;
    const int items = M * ceil_div(K, group);
    const bool vec = group == 128 && K % 128 == 0 && ldx % 4 == 0 && reinterpret_cast<uintptr_t>(x_f16) % 8 == 0 &&
                     reinterpret_cast<uintptr_t>(xq) % 4 == 0;
    quantize_kernel<<<ceil_div(items, 8), 256, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        static_cast<const half*>(x_f16), ldx, M, K, group, bits == 8 ? 127.f : 7.f, xq, xscale, vec, out_order);
    return qspec_launch_status();
}

QSPEC_API int qspec_rmsnorm_quantize(const float* x, const float* w, int8_t* xq, float* xscale, int M, int D,
                                     int group, int bits, float eps, int out_order, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || (bits != 8 && bits != 4)) return QSPEC_ERR_UNSUPPORTED;
    if (!token_order::writable(out_order, D)) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || D <= 0) return 0;
    const bool reg = rms::fits_registers(D, x, w) && rms::fits_register_groups(D, group) &&
                     reinterpret_cast<uintptr_t>(xq) % 4 == 0;
    if (reg) {
        rmsnorm_quantize_reg_kernel<<<M, rms::ROW_THREADS, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
            x, w, D, group, bits == 8 ? 127.f : 7.f, eps, xq, xscale, out_order);
        return qspec_launch_status();
    }
    rmsnorm_quantize_kernel<<<M, 1024, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        x, w, D, group, bits == 8 ? 127.f : 7.f, eps, xq, xscale, out_order);
    return qspec_launch_status();
}
