// Draft GEMM (W4A8, and W4A4 held in int8): y[M,N] fp32 = dequant(xq) * dequant(W)^T on INT8 tensor
// cores (m16n8k32 s8; INT4 MMA is emulated on Hopper, so 4-bit activations take this path too).
// Nibbles are unpacked to int8 in registers ((u + 0x78) ^ 0x80 per byte = u - 8), int32 dot products
// are accumulated per scale group and folded into fp32 with wscale[n,g] * xscale[m,g].
// M <= 4: a DP4A GEMV (below); beyond that its DP4As cost more than the MMA path (measured on H100:
// gate/up at M = 8, 52.7 us GEMV vs 23.2 us MMA). M > 4: the MMA kernel, the same skeleton as the W4A16 kernel: a warp
// owns NT*8 weight rows, the block's warps split K.
// Two weight-read modes keep every group's int32 sum inside whole MMAs:
//  - group % 128 == 0: one 128-bit load per row per 128 inputs (thread t holds inputs 32t..32t+31);
//  - otherwise: four 32-bit loads so that MMA j covers exactly inputs 32j..32j+31 of the step.
#include <stdlib.h>
#include <string.h>
#include "common.cuh"

namespace {

constexpr int KSTEP = 128;

// 8 int8 activations (values in [-8, 7], i.e. A4 codes) -> 8 s4 nibbles, element i in bits 4i..4i+3.
__device__ __forceinline__ uint32_t pack_s4(uint32_t lo, uint32_t hi) {
    uint32_t a = lo & 0x0f0f0f0fu, b = hi & 0x0f0f0f0fu;
    a = (a | (a >> 4)) & 0x00ff00ffu;
    b = (b | (b >> 4)) & 0x00ff00ffu;
    return ((a | (a >> 8)) & 0xffffu) | (((b | (b >> 8)) & 0xffffu) << 16);
}

// S4: true 4-bit MMA (m16n8k64 s4) for A4 activations, for sm_80/86/89 where INT4 tensor cores exist
// (on sm_90 the instruction is emulated, ~26x slower than s8); see use_s4 for when it is taken. Weights need no unpacking: a nibble u with q = u - 8 is the two's-complement s4 u ^ 8.
template <int MT, int NT, int WK, bool WIDE, bool S4 = false>
__global__ void __launch_bounds__(WK * 32) w4ax_kernel(const int8_t* __restrict__ xq,
                                                        const float* __restrict__ xs,
                                                        const uint8_t* __restrict__ wp,
                                                        const half* __restrict__ ws, float* __restrict__ y,
                                                        int ldy, int M, int N, int K, int group) {
    __shared__ float red[WK * MT * NT * 4 * 32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int groups = (K + group - 1) / group, Kp = groups * group, row_bytes = Kp / 2;
    const int n_base = blockIdx.x * NT * 8, m_base = blockIdx.y * MT * 16;
    const int nsteps = (Kp + KSTEP - 1) / KSTEP;

    float acc[MT][NT][4];
#pragma unroll
    for (int a = 0; a < MT; ++a)
#pragma unroll
        for (int b = 0; b < NT; ++b)
#pragma unroll
            for (int c = 0; c < 4; ++c) acc[a][b][c] = 0.f;

    // Input offset of word j of this thread in step s.
    auto k_of = [&](int s, int j) { return s * KSTEP + (WIDE ? 32 * t + 8 * j : 32 * j + 8 * t); };

    auto load_w = [&](int s, uint32_t (*w)[4]) {
#pragma unroll
        for (int i = 0; i < NT; ++i) {
            const int n = n_base + i * 8 + g;
            const uint8_t* row = wp + (long)n * row_bytes;
            if (WIDE) {
                const int kt = k_of(s, 0);
                uint4 v = make_uint4(0x88888888u, 0x88888888u, 0x88888888u, 0x88888888u);
                if (n < N && kt < Kp) v = ld_stream_u4(row + kt / 2);
                w[i][0] = v.x; w[i][1] = v.y; w[i][2] = v.z; w[i][3] = v.w;
            } else {
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    const int k = k_of(s, j);
                    w[i][j] = (n < N && k < Kp) ? ld_stream_u32(row + k / 2) : 0x88888888u;
                }
            }
        }
    };

    // Folds an int32 partial of group gi into the fp32 accumulators of m tile mt, n tile i.
    auto fold = [&](int mt, int i, const int* ci, int gi) {
        const int r0 = m_base + mt * 16 + g, n0 = n_base + i * 8 + 2 * t;
        const float x0 = r0 < M ? __ldg(xs + (long)r0 * groups + gi) : 0.f;
        const float x1 = r0 + 8 < M ? __ldg(xs + (long)(r0 + 8) * groups + gi) : 0.f;
        const float w0 = n0 < N ? __half2float(ws[(long)n0 * groups + gi]) : 0.f;
        const float w1 = n0 + 1 < N ? __half2float(ws[(long)(n0 + 1) * groups + gi]) : 0.f;
        acc[mt][i][0] += (float)ci[0] * (x0 * w0);
        acc[mt][i][1] += (float)ci[1] * (x0 * w1);
        acc[mt][i][2] += (float)ci[2] * (x1 * w0);
        acc[mt][i][3] += (float)ci[3] * (x1 * w1);
    };

    // Two steps of weights in flight ahead of the one being computed.
    uint32_t wcur[NT][4], wnext[NT][4];
    if (warp < nsteps) load_w(warp, wcur);
    if (warp + WK < nsteps) load_w(warp + WK, wnext);
    for (int s = warp; s < nsteps; s += WK) {
        uint32_t wnn[NT][4];
        if (s + 2 * WK < nsteps) load_w(s + 2 * WK, wnn);
        int part[MT][NT][4];
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int k = k_of(s, j);
            if (S4) {
                // words j, j+1 of the thread: inputs k .. k+15, one k64 MMA (slots 8t.. and 32+8t..)
                if (j & 1) continue;
                uint32_t b[NT][2];
#pragma unroll
                for (int i = 0; i < NT; ++i) {
                    b[i][0] = wcur[i][j] ^ 0x88888888u;
                    b[i][1] = wcur[i][j + 1] ^ 0x88888888u;
                }
#pragma unroll
                for (int mt = 0; mt < MT; ++mt) {
                    const int r0 = m_base + mt * 16 + g;
                    uint4 x0 = make_uint4(0, 0, 0, 0), x1 = make_uint4(0, 0, 0, 0);
                    if (k < Kp) {
                        if (r0 < M) x0 = __ldg(reinterpret_cast<const uint4*>(xq + (long)r0 * Kp + k));
                        if (r0 + 8 < M) x1 = __ldg(reinterpret_cast<const uint4*>(xq + (long)(r0 + 8) * Kp + k));
                    }
                    const uint32_t a[4] = {pack_s4(x0.x, x0.y), pack_s4(x1.x, x1.y), pack_s4(x0.z, x0.w),
                                           pack_s4(x1.z, x1.w)};
#pragma unroll
                    for (int i = 0; i < NT; ++i) {
                        if (j == 0) {
#pragma unroll
                            for (int c = 0; c < 4; ++c) part[mt][i][c] = 0;
                        }
                        mma_s4(part[mt][i], a, b[i][0], b[i][1]);
                    }
                }
                continue;
            }
            if (!WIDE && (k - 8 * t) >= Kp) break;  // whole MMA past the padded row (warp-uniform)
            uint32_t b[NT][2];
#pragma unroll
            for (int i = 0; i < NT; ++i) int4_to_s8x8(wcur[i][j], b[i][0], b[i][1]);
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                const int r0 = m_base + mt * 16 + g;
                // int8 inputs k..k+7 of rows r0, r0+8 (xq rows are Kp long, padding zeroed).
                uint2 x0 = make_uint2(0, 0), x1 = make_uint2(0, 0);
                if (k < Kp) {
                    if (r0 < M) x0 = __ldg(reinterpret_cast<const uint2*>(xq + (long)r0 * Kp + k));
                    if (r0 + 8 < M) x1 = __ldg(reinterpret_cast<const uint2*>(xq + (long)(r0 + 8) * Kp + k));
                }
                // Slots 4t..4t+3 take even inputs, 4t+16..4t+19 odd ones (matching the unpacking).
                const uint32_t a[4] = {__byte_perm(x0.x, x0.y, 0x6420), __byte_perm(x1.x, x1.y, 0x6420),
                                       __byte_perm(x0.x, x0.y, 0x7531), __byte_perm(x1.x, x1.y, 0x7531)};
#pragma unroll
                for (int i = 0; i < NT; ++i) {
                    if (j == 0 || !WIDE) {
#pragma unroll
                        for (int c = 0; c < 4; ++c) part[mt][i][c] = 0;
                    }
                    mma_s8(part[mt][i], a, b[i][0], b[i][1]);
                    if (!WIDE) fold(mt, i, part[mt][i], (s * KSTEP + 32 * j) / group);
                }
            }
        }
        if (WIDE) {
#pragma unroll
            for (int mt = 0; mt < MT; ++mt)
#pragma unroll
                for (int i = 0; i < NT; ++i) fold(mt, i, part[mt][i], (s * KSTEP) / group);
        }
#pragma unroll
        for (int i = 0; i < NT; ++i)
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                wcur[i][j] = wnext[i][j];
                wnext[i][j] = wnn[i][j];
            }
    }

    constexpr int FR = MT * NT * 4;
#pragma unroll
    for (int a = 0; a < MT; ++a)
#pragma unroll
        for (int b = 0; b < NT; ++b)
#pragma unroll
            for (int c = 0; c < 4; ++c) red[(warp * FR + (a * NT + b) * 4 + c) * 32 + lane] = acc[a][b][c];
    __syncthreads();
    for (int e = threadIdx.x; e < FR * 32; e += blockDim.x) {
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < WK; ++w) sum += red[w * FR * 32 + e];
        const int idx = e >> 5, ln = e & 31, c = idx & 3, i = (idx >> 2) % NT, mt = (idx >> 2) / NT;
        const int m = m_base + mt * 16 + (ln >> 2) + (c >= 2 ? 8 : 0);
        const int n = n_base + i * 8 + 2 * (ln & 3) + (c & 1);
        if (m < M && n < N) y[(long)m * ldy + n] = sum;
    }
}

// Small-M GEMV on CUDA cores (M <= 4, the draft's decode shapes at small batch): DP4A int8 dot products, no
// padding of M to an MMA tile. Each warp owns R weight rows over all of K; per step a lane streams
// 16 bytes of each row (32 inputs inside one scale group), two steps in flight; the int32 sum of
// those 32 products is folded into fp32 with wscale * xscale. A block is 4 independent warps.
constexpr int GEMV_WARPS = 4, GEMV_STEP = 32 * 32;

template <int MR, int R>
__global__ void __launch_bounds__(GEMV_WARPS * 32, 4) w4ax_gemv_kernel(const int8_t* __restrict__ xq,
                                                                    const float* __restrict__ xs,
                                                                    const uint8_t* __restrict__ wp,
                                                                    const half* __restrict__ ws, float* __restrict__ y,
                                                                    int ldy, int M, int N, int K, int group) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int n0 = (blockIdx.x * GEMV_WARPS + warp) * R;
    if (n0 >= N) return;
    const int groups = (K + group - 1) / group, Kp = groups * group, row_bytes = Kp / 2;

    auto load = [&](int k0, uint4* w, float* sc) {
#pragma unroll
        for (int r = 0; r < R; ++r) {
            const int n = n0 + r;
            if (n < N && k0 < Kp) {
                w[r] = ld_stream_u4(wp + (long)n * row_bytes + k0 / 2);
                sc[r] = __half2float(ws[(long)n * groups + k0 / group]);
            } else {
                w[r] = make_uint4(0x88888888u, 0x88888888u, 0x88888888u, 0x88888888u);
                sc[r] = 0.f;
            }
        }
    };

    float acc[R][MR];
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
        for (int m = 0; m < MR; ++m) acc[r][m] = 0.f;

    uint4 wcur[R], wnext[R];
    float scur[R], snext[R];
    load(lane * 32, wcur, scur);
    load(lane * 32 + GEMV_STEP, wnext, snext);
    for (int k0 = lane * 32; k0 < Kp; k0 += GEMV_STEP) {
        uint4 wnn[R];
        float snn[R];
        load(k0 + 2 * GEMV_STEP, wnn, snn);
        int isum[R][MR];
#pragma unroll
        for (int r = 0; r < R; ++r)
#pragma unroll
            for (int m = 0; m < MR; ++m) isum[r][m] = 0;
#pragma unroll
        for (int q = 0; q < 4; ++q) {  // word q holds inputs k0 + 8q .. k0 + 8q + 7
            uint32_t lo[R], hi[R];  // signed int8 weights of the even and the odd inputs
#pragma unroll
            for (int r = 0; r < R; ++r) {
                const uint32_t word = q == 0 ? wcur[r].x : q == 1 ? wcur[r].y : q == 2 ? wcur[r].z : wcur[r].w;
                int4_to_s8x8(word, lo[r], hi[r]);
            }
#pragma unroll
            for (int m = 0; m < MR; ++m) {
                if (m < M) {  // xq rows are Kp long with zeroed padding, so k0 + 8q + 8 <= Kp is safe
                    const uint2 xv = __ldg(reinterpret_cast<const uint2*>(xq + (long)m * Kp + k0 + 8 * q));
                    const int xe = (int)__byte_perm(xv.x, xv.y, 0x6420), xo = (int)__byte_perm(xv.x, xv.y, 0x7531);
#pragma unroll
                    for (int r = 0; r < R; ++r) {
                        isum[r][m] = __dp4a((int)lo[r], xe, isum[r][m]);
                        isum[r][m] = __dp4a((int)hi[r], xo, isum[r][m]);
                    }
                }
            }
        }
        const int gi = k0 / group;
#pragma unroll
        for (int m = 0; m < MR; ++m) {
            const float xscale = m < M && k0 < Kp ? __ldg(xs + (long)m * groups + gi) : 0.f;
#pragma unroll
            for (int r = 0; r < R; ++r) acc[r][m] = fmaf((float)isum[r][m], scur[r] * xscale, acc[r][m]);
        }
#pragma unroll
        for (int r = 0; r < R; ++r) {
            wcur[r] = wnext[r];
            scur[r] = snext[r];
            wnext[r] = wnn[r];
            snext[r] = snn[r];
        }
    }
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
        for (int m = 0; m < MR; ++m) {
            const float v = warp_sum(acc[r][m]);
            if (lane == 0 && m < M && n0 + r < N) y[(long)m * ldy + n0 + r] = v;
        }
}

template <int MR, int R>
int launch_gemv(const int8_t* xq, const float* xs, const uint8_t* wp, const half* ws, float* y, int ldy, int M,
                int N, int K, int group, cudaStream_t st) {
    w4ax_gemv_kernel<MR, R><<<ceil_div(N, GEMV_WARPS * R), GEMV_WARPS * 32, 0, st>>>(xq, xs, wp, ws, y, ldy, M, N,
                                                                                       K, group);
    return qspec_launch_status();
}

// Whether A4 takes the s4 MMA. QSPEC_S4=1: on devices with INT4 tensor cores (compute capability
// 8.x); QSPEC_S4=force: on any device (tests the path on a Hopper, where s4 is emulated and slow).
// Off by default: the path is checked by warp-level emulation (test/emulate_gemm.py) and, forced,
// by qspec_test, but has not yet run on an sm_80/86/89 GPU.
bool use_s4() {
    static const int mode = [] {
        const char* v = getenv("QSPEC_S4");
        if (v == nullptr) return 0;
        if (strcmp(v, "force") == 0) return 2;
        return strcmp(v, "1") == 0 ? 1 : 0;
    }();
    if (mode != 1) return mode == 2;
    static int major_of[64] = {0};  // 0 = not asked yet
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) {
        (void)cudaGetLastError();
        return false;
    }
    if (major_of[dev] == 0) {
        int major = -1;
        if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) {
            (void)cudaGetLastError();
            major = -1;
        }
        major_of[dev] = major;
    }
    return major_of[dev] == 8;
}

template <int MT, int NT, int WK>
int launch(const int8_t* xq, const float* xs, const uint8_t* wp, const half* ws, float* y, int ldy, int M,
           int N, int K, int group, int bits, cudaStream_t st) {
    dim3 grid(ceil_div(N, NT * 8), ceil_div(M, MT * 16));
    if (bits == 4 && group % KSTEP == 0 && use_s4())
        w4ax_kernel<MT, NT, WK, true, true><<<grid, WK * 32, 0, st>>>(xq, xs, wp, ws, y, ldy, M, N, K, group);
    else if (group % KSTEP == 0)
        w4ax_kernel<MT, NT, WK, true><<<grid, WK * 32, 0, st>>>(xq, xs, wp, ws, y, ldy, M, N, K, group);
    else
        w4ax_kernel<MT, NT, WK, false><<<grid, WK * 32, 0, st>>>(xq, xs, wp, ws, y, ldy, M, N, K, group);
    return qspec_launch_status();
}

}  // namespace

QSPEC_API int qspec_w4ax_gemm(const int8_t* xq, const float* xscale, const uint8_t* w_packed,
                              const void* w_scales_f16, float* y, int ldy, int M, int N, int K, int group,
                              int bits, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || (bits != 8 && bits != 4)) return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(xq) % 16 != 0 || reinterpret_cast<uintptr_t>(w_packed) % 16 != 0)
        return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || N <= 0 || K <= 0) return 0;
    const half* ws = static_cast<const half*>(w_scales_f16);
    cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
    // narrow outputs (k/v projections) take one row per warp, so that enough warps stream weights
    const bool narrow = N < 4096;
    if (M == 1) return narrow ? launch_gemv<1, 1>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, st)
                              : launch_gemv<1, 4>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, st);
    if (M == 2) return narrow ? launch_gemv<2, 1>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, st)
                              : launch_gemv<2, 4>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, st);
    if (M <= 4) return narrow ? launch_gemv<4, 1>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, st)
                              : launch_gemv<4, 4>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, st);
    if (M <= 16) return launch<1, 2, 8>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, bits, st);
    if (M <= 32) return launch<2, 2, 8>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, bits, st);
    return launch<4, 2, 8>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, bits, st);
}
