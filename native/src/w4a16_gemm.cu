// Verify GEMM (W4A16): y[M,N] fp32 = x[M,K] fp16 * W^T, W read straight from the packed INT4 layout.
//
// Tensor-core design for every M (the CUDA-core dequant+FMA alternative is compute-bound already at
// M ~ 4 on Hopper): a warp streams NT*8 weight rows with one 128-bit load per row per 128 inputs,
// dequantizes nibbles to fp16 in registers (magic-number LOP3 trick, scale folded in), and feeds
// m16n8k16 MMAs with fp32 accumulators. The dot product is invariant under a permutation of k, so
// the MMA's k slots are mapped to whatever input order the unpacking yields; the activation
// fragments are permuted to match with PRMT, and each thread reads its activations as 16-byte rows.
// The warps of a block split K and reduce through shared memory (no atomics, deterministic).
// Every M takes this one kernel, on purpose: each output element is summed in the same order whatever
// M is (each warp's K steps in order, then the block's warps in order), so the verify pass's rows are
// bit for bit the rows a one-token decode computes. QSpec's "exactly W4A16 greedy" depends on it. A
// CUDA-core GEMV for M <= 2 was faster for some shapes (k/v 4.9 vs 9.0 us on H100) but summed in
// another order, and QSpec's tokens then parted from plain W4A16's at near-ties (docs/KERNELS.md).
//  - M <= 16 (decode): one 16-row M tile, rows >= M masked, 2 n-tiles/warp.
//  - M > 16: 2 or 4 M tiles per warp so every dequantized weight feeds 2-4x more MMAs.
#include "common.cuh"

namespace {

constexpr int KSTEP = 128;  // inputs per warp step: 4 threads x 32 inputs

// Activations x[r][k .. k+8) as one uint4 of 8 halves; zero outside [0,K) and for rows >= M.
__device__ __forceinline__ uint4 load_x8(const half* x, int ldx, int r, int M, int k, int K, bool vec) {
    if (r >= M) return make_uint4(0, 0, 0, 0);
    const half* p = x + (long)r * ldx + k;
    if (vec && k + 8 <= K) return __ldg(reinterpret_cast<const uint4*>(p));
    union { uint4 u; half h[8]; } v;
#pragma unroll
    for (int e = 0; e < 8; ++e) v.h[e] = k + e < K ? p[e] : __float2half(0.f);
    return v.u;
}

template <int MT, int NT, int WK>
__global__ void __launch_bounds__(WK * 32) w4a16_kernel(const half* __restrict__ x, int ldx,
                                                         const uint8_t* __restrict__ wp,
                                                         const half* __restrict__ ws, float* __restrict__ y,
                                                         int ldy, int M, int N, int K, int group, bool vec) {
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

    auto load_w = [&](int s, uint4* w, half2* sc) {
        const int kt = s * KSTEP + 32 * t;
#pragma unroll
        for (int i = 0; i < NT; ++i) {
            const int n = n_base + i * 8 + g;
            if (n < N && kt < Kp) {
                w[i] = ld_stream_u4(wp + (long)n * row_bytes + kt / 2);
                sc[i] = __half2half2(ws[(long)n * groups + kt / group]);
            } else {
                w[i] = make_uint4(0x88888888u, 0x88888888u, 0x88888888u, 0x88888888u);  // q = 0
                sc[i] = __float2half2_rn(0.f);
            }
        }
    };

    // Two steps of weights in flight ahead of the one being computed (Little's law at ~3 TB/s).
    uint4 wcur[NT], wnext[NT];
    half2 scur[NT], snext[NT];
    if (warp < nsteps) load_w(warp, wcur, scur);
    if (warp + WK < nsteps) load_w(warp + WK, wnext, snext);
    for (int s = warp; s < nsteps; s += WK) {
        uint4 wnn[NT];
        half2 snn[NT];
        if (s + 2 * WK < nsteps) load_w(s + 2 * WK, wnn, snn);
        const int kt = s * KSTEP + 32 * t;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            uint32_t b[NT][4];
#pragma unroll
            for (int i = 0; i < NT; ++i) {
                const uint32_t word = j == 0 ? wcur[i].x : j == 1 ? wcur[i].y : j == 2 ? wcur[i].z : wcur[i].w;
                half2 h[4];
                int4_to_half2x4(word, h);
#pragma unroll
                for (int p = 0; p < 4; ++p) {
                    half2 v = __hmul2(h[p], scur[i]);
                    b[i][p] = *reinterpret_cast<uint32_t*>(&v);
                }
            }
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                const int r0 = m_base + mt * 16 + g;
                // rows r0, r0+8; inputs kt+8j .. kt+8j+7 (one uint4 each)
                const uint4 x0 = load_x8(x, ldx, r0, M, kt + 8 * j, K, vec);
                const uint4 x1 = load_x8(x, ldx, r0 + 8, M, kt + 8 * j, K, vec);
                // MMA 1 takes inputs (0,4),(1,5); MMA 2 takes (2,6),(3,7) of these 8.
                uint32_t a1[4] = {__byte_perm(x0.x, x0.z, 0x5410), __byte_perm(x1.x, x1.z, 0x5410),
                                  __byte_perm(x0.x, x0.z, 0x7632), __byte_perm(x1.x, x1.z, 0x7632)};
                uint32_t a2[4] = {__byte_perm(x0.y, x0.w, 0x5410), __byte_perm(x1.y, x1.w, 0x5410),
                                  __byte_perm(x0.y, x0.w, 0x7632), __byte_perm(x1.y, x1.w, 0x7632)};
#pragma unroll
                for (int i = 0; i < NT; ++i) {
                    mma_f16(acc[mt][i], a1, b[i][0], b[i][1]);
                    mma_f16(acc[mt][i], a2, b[i][2], b[i][3]);
                }
            }
        }
#pragma unroll
        for (int i = 0; i < NT; ++i) {
            wcur[i] = wnext[i];
            scur[i] = snext[i];
            wnext[i] = wnn[i];
            snext[i] = snn[i];
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

template <int MT, int NT, int WK>
int launch(const half* x, int ldx, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K,
           int group, cudaStream_t st) {
    const bool vec = (reinterpret_cast<uintptr_t>(x) % 16 == 0) && (ldx % 8 == 0);
    dim3 grid(ceil_div(N, NT * 8), ceil_div(M, MT * 16));
    w4a16_kernel<MT, NT, WK><<<grid, WK * 32, 0, st>>>(x, ldx, wp, ws, y, ldy, M, N, K, group, vec);
    return qspec_launch_status();
}

}  // namespace

QSPEC_API int qspec_w4a16_gemm(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16,
                               float* y, int ldy, int M, int N, int K, int group, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(w_packed) % 16 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || N <= 0 || K <= 0) return 0;
    const half* x = static_cast<const half*>(x_f16);
    const half* ws = static_cast<const half*>(w_scales_f16);
    cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
    if (M <= 16) return launch<1, 2, 8>(x, ldx, w_packed, ws, y, ldy, M, N, K, group, st);
    if (M <= 32) return launch<2, 2, 8>(x, ldx, w_packed, ws, y, ldy, M, N, K, group, st);
    return launch<4, 2, 8>(x, ldx, w_packed, ws, y, ldy, M, N, K, group, st);
}
