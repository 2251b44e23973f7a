// Draft GEMM (W4A8, and W4A4 held in int8): y[M,N] fp32 = dequant(xq) * dequant(W)^T on INT8 tensor
// cores (m16n8k32 s8; INT4 MMA is emulated on Hopper, so 4-bit activations take this path too).
// Nibbles are unpacked to int8 in registers ((u + 0x78) ^ 0x80 per byte = u - 8), int32 dot products
// are accumulated per scale group and folded into fp32 with wscale[n,g] * xscale[m,g].
// One MMA kernel for every M, tiled like the W4A16 kernel (w4_tiles.cuh), K split across the warps
// of a block. (Measured on the H100 and dropped: a DP4A GEMV for M <= 4, which the MMA kernel matched
// at M = 1 and beat 1.5-2x at M = 4; and a cluster variant like W4A16's, no faster for int8 tokens.)
#include <stdlib.h>
#include <string.h>
#include "w4_bulk.cuh"
#include "token_order.cuh"
#include "w4ax_wgmma.cuh"

namespace {

using w4::KSTEP;
using w4::WK;

// 8 int8 activations (values in [-8, 7], i.e. A4 codes) -> 8 s4 nibbles, element i in bits 4i..4i+3.
__device__ __forceinline__ uint32_t pack_s4(uint32_t lo, uint32_t hi) {
    uint32_t a = lo & 0x0f0f0f0fu, b = hi & 0x0f0f0f0fu;
    a = (a | (a >> 4)) & 0x00ff00ffu;
    b = (b | (b >> 4)) & 0x00ff00ffu;
    return ((a | (a >> 8)) & 0xffffu) | (((b | (b >> 8)) & 0xffffu) << 16);
}

// The MMA kernel, tiled as in w4_tiles.cuh (weights = A operand of m16n8k32 s8, tokens = B). A
// thread unpacks word j of its rows g and g+8 to int8 (w4 int4_to_s8x8: even inputs in one word,
// odd inputs in the other) and permutes token g's int8 inputs to match. int32 sums are exact, so
// the summation order is free here (only the verify GEMM must be M-invariant).
// WIDE (group % 128 == 0): one 128-bit load per row per step, the step's int32 sums are folded
// into fp32 once. Otherwise four 32-bit loads per row per step, so that MMA j covers inputs
// 32j .. 32j+31 of the step (inside one group), folded after every MMA.
// S4 (A4 with WIDE): true 4-bit MMA (m16n8k64 s4) for sm_80/86/89, where INT4 tensor cores exist
// (on sm_90 the instruction is emulated, ~26x slower than s8); see use_s4. Weights need no
// unpacking: a nibble u with q = u - 8 is the two's-complement s4 u ^ 8.
// Input offset (within a step) of word j of thread t: WIDE, the thread's 32 consecutive inputs;
// otherwise inputs 32j + 8t .. +7, so that MMA j covers inputs 32j .. 32j+31 (inside one group).
template <bool WIDE>
__device__ __forceinline__ int k_in(int t, int j) { return WIDE ? 32 * t + 8 * j : 32 * j + 8 * t; }

// Weight words of step s for rows g, g+8 of each row tile (q = 0 past the padded row).
template <int NT, bool WIDE>
__device__ __forceinline__ void load_step(const uint8_t* const (&wrow)[NT][2], int s, int t, int Kp, uint32_t (*w)[2][4]) {
#pragma unroll
    for (int i = 0; i < NT; ++i)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const uint8_t* p = wrow[i][h] + (long)s * (KSTEP / 2);
            if (WIDE) {
                uint4 v = make_uint4(0x88888888u, 0x88888888u, 0x88888888u, 0x88888888u);
                if (s * KSTEP + k_in<WIDE>(t, 0) < Kp) v = ld_stream_u4(p);
                w[i][h][0] = v.x; w[i][h][1] = v.y; w[i][h][2] = v.z; w[i][h][3] = v.w;
            } else {
#pragma unroll
                for (int j = 0; j < 4; ++j) w[i][h][j] = s * KSTEP + k_in<WIDE>(t, j) < Kp ? ld_stream_u32(p + 16 * j) : 0x88888888u;
            }
        }
}

// One 128-input step of a warp: the MMAs of every row tile and token tile, with each group's int32
// sums folded into fp32 by fold(mt, i, part, group index). x_word(mt, j): token g's 8 int8 inputs
// of word j of token tile mt.
template <int MT, int NT, bool WIDE, bool S4, class XWord, class Fold>
__device__ __forceinline__ void step_mma(const uint32_t (&wcur)[NT][2][4], int s, int Kp, int group, XWord&& x_word,
                                         Fold&& fold) {
    const int k0 = s * KSTEP;
    int part[MT][NT][4];
    zero_fragments(part);
    if (S4) {
        // words j, j+1 of the thread (16 consecutive inputs) in one k64 MMA (slots 8t.. and 32+8t..)
#pragma unroll
        for (int j = 0; j < 4; j += 2) {
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                const uint2 v0 = x_word(mt, j), v1 = x_word(mt, j + 1);
                const uint32_t b0 = pack_s4(v0.x, v0.y), b1 = pack_s4(v1.x, v1.y);
#pragma unroll
                for (int i = 0; i < NT; ++i) {
                    const uint32_t a[4] = {wcur[i][0][j] ^ 0x88888888u, wcur[i][1][j] ^ 0x88888888u,
                                           wcur[i][0][j + 1] ^ 0x88888888u, wcur[i][1][j + 1] ^ 0x88888888u};
                    mma_s4(part[mt][i], a, b0, b1);
                }
            }
        }
    } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            if (!WIDE && k0 + 32 * j >= Kp) break;  // whole MMA past the padded row (warp-uniform)
            // A fragments: rows g (a0 even inputs, a2 odd inputs) and g+8 (a1, a3)
            uint32_t a[NT][4];
#pragma unroll
            for (int i = 0; i < NT; ++i) {
                int4_to_s8x8(wcur[i][0][j], a[i][0], a[i][2]);
                int4_to_s8x8(wcur[i][1][j], a[i][1], a[i][3]);
            }
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                const uint2 v = x_word(mt, j);
                // token g's even inputs for slots 4t.., odd ones for 4t+16.. (matching the unpacking)
                const uint32_t b0 = __byte_perm(v.x, v.y, 0x6420), b1 = __byte_perm(v.x, v.y, 0x7531);
#pragma unroll
                for (int i = 0; i < NT; ++i) {
                    if (!WIDE) {
#pragma unroll
                        for (int c = 0; c < 4; ++c) part[mt][i][c] = 0;
                    }
                    mma_s8(part[mt][i], a[i], b0, b1);
                    if (!WIDE) fold(mt, i, part[mt][i], (k0 + 32 * j) / group);
                }
            }
        }
    }
    if (WIDE) {
        const int gi = group == KSTEP ? s : k0 / group;
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
            for (int i = 0; i < NT; ++i) fold(mt, i, part[mt][i], gi);
    }
}

// acc += a step's int32 sums (c = 0, 1: row g, tokens 2t, 2t + 1; c = 2, 3: row g + 8), scaled by the
// rows' weight scales w0, w1 times the tokens' scales x0, x1.
__device__ __forceinline__ void fold_into(float (&acc)[4], const int* part, float w0, float w1, float x0, float x1) {
    acc[0] = fmaf((float)part[0], w0 * x0, acc[0]);
    acc[1] = fmaf((float)part[1], w0 * x1, acc[1]);
    acc[2] = fmaf((float)part[2], w1 * x0, acc[2]);
    acc[3] = fmaf((float)part[3], w1 * x1, acc[3]);
}

constexpr int STAGES = 3;  // steps of weights (registers) and activations (shared memory) in flight

// Shared memory of one block: per warp, STAGES x MT x 4 words x 32 lanes of 8 int8 activations.
template <int MT>
constexpr size_t smem_bytes() { return (size_t)WK * STAGES * MT * 4 * 32 * sizeof(uint2); }

template <int MT, int NT, bool WIDE, bool S4>
__global__ void __launch_bounds__(WK * 32, MT == 1 ? 3 : 2) w4ax_kernel(const int8_t* __restrict__ xq,
                                                                     const float* __restrict__ xs,
                                                                     const uint8_t* __restrict__ wp,
                                                                     const half* __restrict__ ws,
                                                                     float* __restrict__ y, int ldy, int M,
                                                                     int N, int K, int group, bool accumulate) {
    grid_dependency_wait();  // the activations, their scales and y (accumulate) may be the kernel before's output
    __shared__ float red[WK * MT * NT * 4 * 32];
    extern __shared__ uint2 xsm_all[];
    const w4::Tile tl(NT, MT);
    const int groups = (K + group - 1) / group, Kp = groups * group, row_bytes = Kp / 2;
    const int nsteps = (Kp + KSTEP - 1) / KSTEP;
    // this warp's activation ring; a thread reads back only what it copied itself (no barriers)
    uint2* xsm = xsm_all + tl.warp * (STAGES * MT * 4 * 32);

    const uint8_t* wrow[NT][2];
    const half* srow[NT][2];
#pragma unroll
    for (int i = 0; i < NT; ++i)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int n = tl.row(i, h, N);
            wrow[i][h] = wp + (long)n * row_bytes + (WIDE ? 16 * tl.t : 4 * tl.t);
            srow[i][h] = ws + (long)n * groups;
        }
    // B operand: token g of each token tile (xq rows are Kp long, padding zeroed)
    const int8_t* xrow[MT];
    bool xok[MT];
    // fold: x scales of tokens 2t, 2t+1 of each token tile
    const float* xsrow[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
        const int m = tl.m_base + 8 * mt + tl.g;
        xok[mt] = m < M;
        xrow[mt] = xq + (long)min(m, M - 1) * Kp;
#pragma unroll
        for (int c = 0; c < 2; ++c) xsrow[mt][c] = xs + (long)min(tl.m_base + 8 * mt + 2 * tl.t + c, M - 1) * groups;
    }

    float acc[MT][NT][4];
    zero_fragments(acc);

    auto load = [&](int s, uint32_t (*w)[2][4]) { load_step<NT, WIDE>(wrow, s, tl.t, Kp, w); };
    auto fold_scaled = [&](int mt, int i, const int* part, float w0, float w1, float x0, float x1) {
        fold_into(acc[mt][i], part, w0, w1, x0, x1);
    };
    // the same for group gi, its scales loaded here (group % 128 != 0: a fold after every MMA)
    auto fold = [&](int mt, int i, const int* part, int gi) {
        fold_scaled(mt, i, part, __half2float(srow[i][0][gi]), __half2float(srow[i][1][gi]), __ldg(xsrow[mt][0] + gi),
                    __ldg(xsrow[mt][1] + gi));
    };

    // token g's 8 int8 inputs of word j, for every word of step s, into ring slot `slot`
    auto stage_x = [&](int slot, int s) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const int k = s * KSTEP + k_in<WIDE>(tl.t, j);
                cp_async_8(xsm + ((slot * MT + mt) * 4 + j) * 32 + tl.lane, xrow[mt] + min(k, Kp - 8), xok[mt] && k < Kp);
            }
    };
    auto x_word = [&](int slot, int mt, int j) { return xsm[((slot * MT + mt) * 4 + j) * 32 + tl.lane]; };

    // WIDE: a step's weight and activation scales, loaded with its weights for the step's one fold: loaded
    // where fold loads them, they would stall the warp at every step for the latency of a load.
    auto load_scales = [&](int s, half (*wsc)[2], float (*xsc)[2]) {
        if (!WIDE) return;
        const int gi = s * KSTEP / group;
#pragma unroll
        for (int i = 0; i < NT; ++i)
#pragma unroll
            for (int h = 0; h < 2; ++h) wsc[i][h] = srow[i][h][gi];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
            for (int c = 0; c < 2; ++c) xsc[mt][c] = __ldg(xsrow[mt][c] + gi);
    };

    // Two steps in flight ahead of the one being computed, in a ring of three register buffers
    // (weights, WIDE scales) and shared-memory slots (activations).
    uint32_t wr[STAGES][NT][2][4];
    half wsr[STAGES][NT][2];
    float xsr[STAGES][MT][2];
    if (tl.warp < nsteps) { load(tl.warp, wr[0]); load_scales(tl.warp, wsr[0], xsr[0]); stage_x(0, tl.warp); }
    cp_async_commit();
    if (tl.warp + WK < nsteps) {
        load(tl.warp + WK, wr[1]);
        load_scales(tl.warp + WK, wsr[1], xsr[1]);
        stage_x(1, tl.warp + WK);
    }
    cp_async_commit();
    w4::walk_ring3(tl.warp, nsteps, [&](auto slot_c, int s) {
        constexpr int slot = decltype(slot_c)::value, ahead = (slot + 2) % STAGES;
        if (s + 2 * WK < nsteps) {
            load(s + 2 * WK, wr[ahead]);
            load_scales(s + 2 * WK, wsr[ahead], xsr[ahead]);
            stage_x(ahead, s + 2 * WK);
        }
        cp_async_commit();
        cp_async_wait<2>();  // this step's activations have landed
        auto x = [&](int mt, int j) { return x_word(slot, mt, j); };
        if (WIDE) {
            step_mma<MT, NT, WIDE, S4>(wr[slot], s, Kp, group, x, [&](int mt, int i, const int* part, int) {
                fold_scaled(mt, i, part, __half2float(wsr[slot][i][0]), __half2float(wsr[slot][i][1]),
                            xsr[slot][mt][0], xsr[slot][mt][1]);
            });
        } else {
            step_mma<MT, NT, WIDE, S4>(wr[slot], s, Kp, group, x, fold);
        }
    });
    cp_async_wait<0>();
    w4::reduce_store<MT, NT>(tl, acc, red, y, ldy, M, N, accumulate);
}

// sm_90 decode (M <= 8 MT, s8, group 128, K % 1024 == 0): w4ax_kernel's WIDE sums with the weights and
// int8 activations brought in by the tensor memory accelerator through the ring of w4_bulk.cuh (R chunks),
// for NT row tiles and MT token tiles per CTA (they share the weight and token fragments). Warp w takes
// step w of every chunk (its scales loaded a chunk ahead) and the warps are added in warp order. WALK (two or
// four row tiles, one token tile, or KEEP): a CTA walks several row tiles (w4_bulk.cuh); otherwise two token tiles
// take one row tile, blockIdx.y, and reduce in the ring once every warp is done with it (16 KB more of static
// shared memory would cost the second CTA per SM). KEEP: the tokens' codes are copied once and kept for the walk,
// and two token tiles reduce after them (w4_bulk.cuh). HEAD (KEEP): xq and xs are not read; the consumer warps first
// quantize epi.head's RMSNorm into the kept codes and a static array of scales, the bits qspec_rmsnorm_quantize would
// have stored in xq and xs (norm_rows.cuh, run_head).
// (launch bounds: w4_bulk.cuh min_ctas, max_regs)
template <int NT, int R, int MT, bool WALK, int EPI, bool KEEP, bool HEAD = false>
__global__ void __launch_bounds__(w4::bulk::THREADS, (w4::bulk::min_ctas<NT, MT>())) __maxnreg__((w4::bulk::max_regs<NT, MT>()))
    w4ax_bulk_kernel(const __grid_constant__ CUtensorMap wmap, const int8_t* __restrict__ xq,
                     const float* __restrict__ xs, const half* __restrict__ ws, float* __restrict__ y, int ldy, int M,
                     int N, int K, bool accumulate, const w4::bulk::Epilogue epi) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900  // launched on sm_90 only
    using namespace w4::bulk;
    static_assert(MT == 1 || !WALK || KEEP,
                  "two token tiles reduce in the ring unless KEEP, so they take one row tile");
    static_assert(!KEEP || WALK, "KEEP takes the walking build");
    static_assert(MT == 1 || EPI == STORE || (EPI == ROPE_KV && MT == 2),
                  "the epilogues follow the stores of one token tile (RoPE: one or two)");
    static_assert(EPI != SWIGLU, "the draft's SwiGLU is quantized in groups wider than a CTA's rows");
    static_assert(!HEAD || (KEEP && MT == 1), "the head fills the kept activations of one token tile");
    extern __shared__ __align__(128) uint8_t bsm[];
    __shared__ float red_static[MT == 1 ? WK * NT * 4 * 32 : 1];
    __shared__ float head_scales[HEAD ? rms::HEAD_SCALES : 1];  // HEAD: the M rows' group scales (groups apart)
    Ring<1, NT, R, KEEP> ring(bsm, K);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const int groups = K / KSTEP;
    const Walk wk{(int)blockIdx.y, (int)gridDim.y, (N + 16 * NT - 1) / (16 * NT), K / CHUNK};
    float acc[MT][NT][4];
    zero_fragments(acc);
    if (warp == WK) {
        // HEAD: the weights alone (no codes to copy), once the head's first loads have landed (named barrier 2)
        if constexpr (HEAD) asm volatile("bar.sync 2, %0;" ::"n"(THREADS) : "memory");
        if (lane == 0)
            ring.template produce<WALK>(&wmap, reinterpret_cast<const uint8_t*>(xq), K, HEAD ? 0 : M, wk);
        __syncwarp();
    } else {
        // scales of step warp + 8c (group warp + 8c): weight rows 16i + g, 16i + g + 8 and tokens 8mt + 2t,
        // 8mt + 2t + 1, a chunk ahead in buffers indexed at compile time (chunk c's: (c % R) % SB), converted
        // where the fold uses them
        const half* srow[NT][2];
        scale_rows(ws, wk.tile0 * 16 * NT, g, N, groups, warp, srow);
        const float* xrow[MT][2];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
            for (int h = 0; h < 2; ++h)
                xrow[mt][h] = (HEAD ? head_scales : xs) + (long)min(8 * mt + 2 * t + h, M - 1) * groups + warp;
        constexpr int SB = R % 2 == 0 ? 2 : R;
        half wsr[SB][NT][2];
        float xsr[SB][MT][2];
        auto load_scales = [&](int b, int c) {
#pragma unroll
            for (int i = 0; i < NT; ++i)
#pragma unroll
                for (int h = 0; h < 2; ++h) wsr[b][i][h] = srow[i][h][c * WK];
#pragma unroll
            for (int mt = 0; mt < MT; ++mt)
#pragma unroll
                for (int h = 0; h < 2; ++h) xsr[b][mt][h] = HEAD ? xrow[mt][h][c * WK] : __ldg(xrow[mt][h] + c * WK);
        };
        // the activation scales, the head's rows and y (accumulate) may be the kernel before's output
        grid_dependency_wait();
        if constexpr (HEAD)  // red_static is free until the first tile's sums
            rms::run_head<WK>(
                epi.head, M, K, red_static,
                [&](int m, int c, bool valid, float4 v, float rinv, float4 gain) {
                    rms::store_codes4(reinterpret_cast<int8_t*>(ring.xst + m * ring.kept_pitch), head_scales + m * groups,
                                      c, valid, v, rinv, gain, KSTEP, epi.head.qmax);
                },
                [] { asm volatile("bar.arrive 2, %0;" ::"n"(THREADS) : "memory"); });
        load_scales(0, 0);
        int xm[MT];  // token g of each token tile; tokens past M read token M - 1 (their outputs are never stored)
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) xm[mt] = min(8 * mt + g, M - 1);
        ring.template consume<WALK>(
            warp, lane, xm, wk, [&](int) { zero_fragments(acc); },
            [&](auto r, int tile, int c) {  // a chunk ahead: the next tile's first chunk after a tile's last (in
                                            // buffer 0: a walk has nchunks % R == 0)
                if (c + 1 < wk.nchunks) {
                    load_scales((decltype(r)::value + 1) % SB, c + 1);
                } else if (WALK && tile + wk.tstep < wk.ntiles) {
                    scale_rows(ws, (tile + wk.tstep) * 16 * NT, g, N, groups, warp, srow);
                    load_scales(0, 0);
                }
            },
            [&](auto r, int c, const uint4 (&w)[NT][2], auto&& xv) {
                constexpr int b = decltype(r)::value % SB;
                uint32_t wcur[NT][2][4];
#pragma unroll
                for (int i = 0; i < NT; ++i)
#pragma unroll
                    for (int h = 0; h < 2; ++h) {
                        wcur[i][h][0] = w[i][h].x;
                        wcur[i][h][1] = w[i][h].y;
                        wcur[i][h][2] = w[i][h].z;
                        wcur[i][h][3] = w[i][h].w;
                    }
                // all token and row tiles at once, or (four token tiles) blocks of two token tiles by two row tiles
                // (a step's sums of all 16 spill)
                constexpr int MS = MT == 4 ? 2 : MT, NS = MT == 4 && NT > 2 ? 2 : NT;
#pragma unroll
                for (int i0 = 0; i0 < NT; i0 += NS)
#pragma unroll
                    for (int m0 = 0; m0 < MT; m0 += MS)
                        step_mma<MS, NS, true, false>(
                            *reinterpret_cast<const uint32_t(*)[NS][2][4]>(&wcur[i0]), c * WK + warp, K, KSTEP,
                            [&](int mt, int j) {
                                const uint4 v = xv(m0 + mt, j >> 1);
                                return (j & 1) ? make_uint2(v.z, v.w) : make_uint2(v.x, v.y);
                            },
                            [&](int mt, int i, const int* part, int) {
                                fold_into(acc[m0 + mt][i0 + i], part, __half2float(wsr[b][i0 + i][0]),
                                          __half2float(wsr[b][i0 + i][1]), xsr[b][m0 + mt][0], xsr[b][m0 + mt][1]);
                            });
            },
            [&](int tile) {
                if constexpr (MT == 1)
                    reduce_tile<true, EPI>(acc, red_static, y, ldy, M, N, tile * 16 * NT, accumulate, epi);
                else if constexpr (WALK)
                    reduce_tile<true, EPI>(acc, ring.after_kept(M), y, ldy, M, N, tile * 16 * NT, accumulate, epi);
            });
    }
    if constexpr (MT > 1 && !WALK) {
        __syncthreads();  // every warp is past its last chunk: the ring is free
        reduce_tile<false, EPI>(acc, reinterpret_cast<float*>(bsm + BARRIERS), y, ldy, M, N, blockIdx.y * 16 * NT,
                                accumulate, epi);
    } else if constexpr (EPI == NORM_TAIL) {  // every chunk has landed and been used: the ring is free
        rms::run_tail<THREADS>(epi.norm, y, M, N, reinterpret_cast<float*>(bsm + BARRIERS));
    }
#endif
}

// Whether the draft takes the bulk-copy kernel from M = 2 (two row tiles per CTA) or at one token only
// (QSPEC_BULK_DRAFT_TILES=0; measurements).
inline bool draft_two_tiles() {
    static const bool on = env_int("QSPEC_BULK_DRAFT_TILES", 1) != 0;
    return on;
}

// The bulk-copy kernel for w4::bulk::launch (w4_bulk.cuh).
struct BulkKernels {
    static constexpr int XB = 1;  // bytes of one activation input
    static constexpr bool SWIGLU = false;  // the SWIGLU epilogue
    template <int NT, int R, int MT, bool WALK, int EPI, bool KEEP>
    static constexpr auto kernel = w4ax_bulk_kernel<NT, R, MT, WALK, EPI, KEEP>;
    static constexpr bool K_SPLIT = false;  // no K split over a cluster (w4_bulk.cuh)
    static constexpr bool NORM_HEAD = true;  // the RMSNorm and quantizer of its input in each CTA (w4_bulk.cuh)
    template <int NT, int EPI>
    static constexpr auto head_kernel = w4ax_bulk_kernel<NT, 2, 1, true, EPI, true, true>;
};

// Row tiles per CTA of the draft's bulk-copy kernel with two token tiles at M = 9-16 (0: the warp-split kernel
// instead). Measured on the H200 (docs/KERNELS.md): with two row tiles it beats the warp-split kernel on 4096
// rows (down at M = 16 19.9 -> 16.7 us, q/o 7.3 -> 6.4) and loses on 6144 and 14336 (q+k+v 10.6 -> 11.7,
// gate/up 21.8 -> 22.7: 1.5 and 3.4 CTAs per SM); on wider matrices four row tiles (wide_row_tiles), and with
// also where two would make more CTAs than SMs (6144 rows: four_row_tiles_m16; session 26, on the H100 q+k+v at
// M = 16 10.5 -> 8.6 us). QSPEC_BULK_DRAFT_M16=0: never; =all: two row tiles on every N (tests; use_bulk_gemv checks
// the rest).
inline int draft_token_tile_rows(int M, int N) {
    static const int mode = w4::bulk::env_switch("QSPEC_BULK_DRAFT_M16");
    if (M <= 8 || M > 16 || mode == 0) return 0;
    if (mode == 2) return 2;
    if (w4::bulk::four_row_tiles_m16(N)) return 4;
    return N <= 4096 || N > 8192 ? 2 : 0;
}

// Large M (group % 128 == 0, s8): CTA tiles of 128 rows x 64 tokens over the whole K, each step's
// weight and activation tiles staged once in shared memory for the 8 warps, which form a 4 (rows) x 2
// (tokens) grid of 32 x 32 tiles; two CTAs per SM. (128 x 128 tiles at one CTA per SM, measured on the H100:
// 8 % faster on gate/up at M = 256, 1.2-1.7x slower at M = 64.) Steps in K order, folded per group as in w4ax_kernel (int32 sums
// are exact; the draft's fp32 order may differ from the warp-split kernel's, which nothing needs).
namespace tiled {
constexpr int NT = 2, MT = 4;
using Warp = w4::TiledWarp<4, NT, MT>;  // 4 warps along the rows: 128 x 64 tiles
constexpr int BM = Warp::BM;
constexpr int XROW = 9;  // 16-byte units per token row: 8 used
constexpr int XUNITS = BM * XROW;
constexpr size_t smem_bytes = (size_t)w4::TSTAGES * (w4::WUNITS + XUNITS) * sizeof(uint4);
}  // namespace tiled

template <int MINB>
__global__ void __launch_bounds__(WK * 32, MINB)
    w4ax_tiled_kernel(const int8_t* __restrict__ xq, const float* __restrict__ xs, const uint8_t* __restrict__ wp,
                      const half* __restrict__ ws, float* __restrict__ y, int ldy, int M, int N, int K, int group,
                      bool accumulate) {
    using namespace tiled;
    extern __shared__ uint4 tsm[];
    uint4* const wsm = tsm;                             // [TSTAGES][WUNITS]
    uint4* const xsm = tsm + w4::TSTAGES * w4::WUNITS;  // [TSTAGES][XUNITS]
    const Warp tw;
    const int g = tw.g, t = tw.t, n0 = tw.n0, m0 = tw.m0, wr = tw.wr, wm = tw.wm;
    const int groups = (K + group - 1) / group, Kp = groups * group, row_bytes = Kp / 2;
    const int nsteps = Kp / KSTEP;  // group % 128 == 0

    const half* srow[NT][2];
#pragma unroll
    for (int i = 0; i < NT; ++i)
#pragma unroll
        for (int h = 0; h < 2; ++h) srow[i][h] = ws + (long)tw.row(i, h, N) * groups;
    const float* xsrow[MT][2];
#pragma unroll
    for (int a = 0; a < MT; ++a)
#pragma unroll
        for (int c = 0; c < 2; ++c) xsrow[a][c] = xs + (long)min(m0 + wm + 8 * a + 2 * t + c, M - 1) * groups;

    auto stage = [&](int slot, int s) {
        w4::stage_weights(wsm + slot * w4::WUNITS, wp, n0, N, row_bytes, Kp, s);
        for (int e = threadIdx.x; e < BM * 8; e += WK * 32) {
            const int r = e >> 3, u = e & 7, m = m0 + r;
            cp_async_16(xsm + slot * XUNITS + r * XROW + u, xq + (long)min(m, M - 1) * Kp + (long)s * KSTEP + 16 * u, m < M);
        }
    };

    float acc[MT][NT][4];
    zero_fragments(acc);

    stage(0, 0);
    cp_async_commit();
    if (nsteps > 1) stage(1, 1);
    cp_async_commit();
    for (int s = 0, slot = 0; s < nsteps; ++s, slot = slot == w4::TSTAGES - 1 ? 0 : slot + 1) {
        const int gi = group == KSTEP ? s : s * KSTEP / group;
        float wsc[NT][2], xsc[MT][2];
#pragma unroll
        for (int i = 0; i < NT; ++i)
#pragma unroll
            for (int h = 0; h < 2; ++h) wsc[i][h] = __half2float(srow[i][h][gi]);
#pragma unroll
        for (int a = 0; a < MT; ++a)
#pragma unroll
            for (int c = 0; c < 2; ++c) xsc[a][c] = __ldg(xsrow[a][c] + gi);
        cp_async_wait<1>();
        __syncthreads();  // step s's tiles are complete, and every warp is done with the slot refilled next
        if (s + 2 < nsteps) stage(slot == 0 ? 2 : slot - 1, s + 2);
        cp_async_commit();
        const uint4* wt = wsm + slot * w4::WUNITS;
        const uint4* xt = xsm + slot * XUNITS;
        int part[MT][NT][4];
        zero_fragments(part);
        uint4 xv[MT][2];  // token g's 32 inputs at 32t of each token tile
#pragma unroll
        for (int a = 0; a < MT; ++a) {
            xv[a][0] = xt[(wm + 8 * a + g) * XROW + 2 * t];
            xv[a][1] = xt[(wm + 8 * a + g) * XROW + 2 * t + 1];
        }
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            uint32_t af[NT][4];
#pragma unroll
            for (int i = 0; i < NT; ++i) {
                const uint4 lo = wt[(wr + 16 * i + g) * 4 + t], hi = wt[(wr + 16 * i + 8 + g) * 4 + t];
                int4_to_s8x8(j == 0 ? lo.x : j == 1 ? lo.y : j == 2 ? lo.z : lo.w, af[i][0], af[i][2]);
                int4_to_s8x8(j == 0 ? hi.x : j == 1 ? hi.y : j == 2 ? hi.z : hi.w, af[i][1], af[i][3]);
            }
#pragma unroll
            for (int a = 0; a < MT; ++a) {
                const uint4& v = xv[a][j >> 1];
                const uint32_t x0 = (j & 1) ? v.z : v.x, x1 = (j & 1) ? v.w : v.y;
                const uint32_t b0 = __byte_perm(x0, x1, 0x6420), b1 = __byte_perm(x0, x1, 0x7531);
#pragma unroll
                for (int i = 0; i < NT; ++i) mma_s8(part[a][i], af[i], b0, b1);
            }
        }
#pragma unroll
        for (int a = 0; a < MT; ++a)
#pragma unroll
            for (int i = 0; i < NT; ++i) {
                acc[a][i][0] = fmaf((float)part[a][i][0], wsc[i][0] * xsc[a][0], acc[a][i][0]);
                acc[a][i][1] = fmaf((float)part[a][i][1], wsc[i][0] * xsc[a][1], acc[a][i][1]);
                acc[a][i][2] = fmaf((float)part[a][i][2], wsc[i][1] * xsc[a][0], acc[a][i][2]);
                acc[a][i][3] = fmaf((float)part[a][i][3], wsc[i][1] * xsc[a][1], acc[a][i][3]);
            }
    }
    cp_async_wait<0>();
    tw.store(acc, y, ldy, M, N, accumulate);
}

template <int MINB>
int launch_tiled(const int8_t* xq, const float* xs, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N,
                 int K, int group, bool accumulate, cudaStream_t st) {
    static unsigned long long smem_allowed;
    if (const int e = allow_dynamic_smem(w4ax_tiled_kernel<MINB>, tiled::smem_bytes, smem_allowed)) return e;
    const dim3 grid(ceil_div(M, tiled::BM), ceil_div(N, w4::BN));
    w4ax_tiled_kernel<MINB><<<grid, WK * 32, tiled::smem_bytes, st>>>(xq, xs, wp, ws, y, ldy, M, N, K, group, accumulate);
    return qspec_launch_status();
}

int launch_tiled(const int8_t* xq, const float* xs, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N,
                 int K, int group, bool accumulate, cudaStream_t st) {
    const long ctas = (long)ceil_div(M, tiled::BM) * ceil_div(N, w4::BN);
    return tiled_min_blocks(ctas) == 1 ? launch_tiled<1>(xq, xs, wp, ws, y, ldy, M, N, K, group, accumulate, st)
                                       : launch_tiled<2>(xq, xs, wp, ws, y, ldy, M, N, K, group, accumulate, st);
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
    return device_major() == 8;
}

template <int MT, int NT>
int launch(const int8_t* xq, const float* xs, const uint8_t* wp, const half* ws, float* y, int ldy, int M,
           int N, int K, int group, int bits, bool accumulate, cudaStream_t st) {
    const dim3 grid = w4::grid_of(M, N, NT, MT);
    const int variant = group % KSTEP != 0 ? 0 : bits == 4 && use_s4() ? 2 : 1;
    auto kernel = variant == 0 ? w4ax_kernel<MT, NT, false, false>
                  : variant == 1 ? w4ax_kernel<MT, NT, true, false> : w4ax_kernel<MT, NT, true, true>;
    const size_t smem = smem_bytes<MT>();
    static unsigned long long smem_allowed[3];  // devices opted in, per kernel variant
    if (const int e = allow_dynamic_smem(kernel, smem + sizeof(float) * WK * MT * NT * 4 * 32, smem_allowed[variant]))
        return e;
    return launch_dependent(kernel, grid, WK * 32, smem, st, false, xq, xs, wp, ws, y, ldy, M, N, K, group, accumulate);
}

// sm_90 decode: the bulk-copy kernel with one token tile (s8 only: the s4 path keeps the warp-split kernel), then
// the epilogue `epi`; NOT_TAKEN where it does not apply or the driver cannot describe the weights (the caller then
// takes the warp-split kernel).
int launch_bulk_decode(const int8_t* xq, const float* xscale, const uint8_t* wp, const half* ws, float* y, int ldy,
                       int M, int N, int K, int group, int bits, bool accumulate, const w4::bulk::Epilogue& epi,
                       cudaStream_t st) {
    if ((bits == 4 && use_s4()) || !w4::bulk::use_bulk_gemv(M, N, K, group, draft_two_tiles())) return w4::bulk::NOT_TAKEN;
    switch (w4::bulk::row_tiles(M, N, 1)) {  // four row tiles on wide matrices from M = 1
        case 4: return w4::bulk::launch<BulkKernels, 4>(wp, ws, y, ldy, M, N, K, accumulate, epi, st, xq, xscale);
        case 2: return w4::bulk::launch<BulkKernels, 2>(wp, ws, y, ldy, M, N, K, accumulate, epi, st, xq, xscale);
        default: return w4::bulk::launch<BulkKernels, 1>(wp, ws, y, ldy, M, N, K, accumulate, epi, st, xq, xscale);
    }
}

// sm_90 at M = 9-16: the bulk-copy kernel with two token tiles (s8 only) on the row tiles draft_token_tile_rows
// chooses, with the epilogue `epi`; NOT_TAKEN where it does not apply or the driver cannot describe the weights.
int launch_bulk_two_token_tiles(const int8_t* xq, const float* xscale, const uint8_t* wp, const half* ws, float* y,
                                int ldy, int M, int N, int K, int group, int bits, bool accumulate,
                                const w4::bulk::Epilogue& epi, cudaStream_t st) {
    const int rows = draft_token_tile_rows(M, N);
    if (rows == 0 || (bits == 4 && use_s4()) || !w4::bulk::use_bulk_gemv(M, N, K, group, true, 16))
        return w4::bulk::NOT_TAKEN;
    return rows == 4 ? w4::bulk::launch<BulkKernels, 4, 2>(wp, ws, y, ldy, M, N, K, accumulate, epi, st, xq, xscale)
                     : w4::bulk::launch<BulkKernels, 2, 2>(wp, ws, y, ldy, M, N, K, accumulate, epi, st, xq, xscale);
}

}  // namespace

// The four-token-tile GEMV takes the call (qspec_w4ax_gemm's first choice).
static bool w4ax_four_token_tiles(int M, int N, int K, int group, int bits) {
    return !(bits == 4 && use_s4()) && w4::bulk::four_token_tiles(M, N) &&
           w4::bulk::use_bulk_gemv(M, N, K, group, true, 32);
}

bool token_order::w4ax_reads_mma_order(int M, int N, int K, int group, int bits) {
    return M > 0 && N > 0 && K > 0 && group > 0 && (bits == 8 || bits == 4) && !(bits == 4 && use_s4()) &&
           !w4ax_four_token_tiles(M, N, K, group, bits) && w4::wgmma_draft::use(M, N, K, group) &&
           w4::wgmma_draft::takes_mma_order(M, N, K, group);
}

QSPEC_API int qspec_w4ax_gemm(const int8_t* xq, const float* xscale, const uint8_t* w_packed,
                              const void* w_scales_f16, float* y, int ldy, int M, int N, int K, int group,
                              int bits, int accumulate, int x_order, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || (bits != 8 && bits != 4)) return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(xq) % 16 != 0 || reinterpret_cast<uintptr_t>(w_packed) % 16 != 0)
        return QSPEC_ERR_UNSUPPORTED;
    if (x_order != QSPEC_TOKENS_ROW && x_order != QSPEC_TOKENS_MMA) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || N <= 0 || K <= 0) return 0;
    const half* ws = static_cast<const half*>(w_scales_f16);
    cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
    if (x_order == QSPEC_TOKENS_MMA) {  // only the warpgroup kernel's weights-from-registers build reads them
        if (!token_order::w4ax_reads_mma_order(M, N, K, group, bits)) return QSPEC_ERR_UNSUPPORTED;
        const int e = w4::wgmma_draft::launch(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, true, st);
        return e == NO_TENSOR_MAP ? QSPEC_ERR_UNSUPPORTED : e;
    }
    // sm_90 at M = 17-32 (QSPEC_BULK_M32): the bulk-copy kernel with four token tiles (w4_bulk.cuh
    // four_token_tiles; s8 only)
    if (w4ax_four_token_tiles(M, N, K, group, bits)) {
        const int e = w4::bulk::launch_four_token_tiles<BulkKernels>(w_packed, ws, y, ldy, M, N, K, accumulate != 0,
                                                                     st, xq, xscale);
        if (e != NO_TENSOR_MAP) return e;  // else: the kernels below
    }
    // Many tokens on sm_90: the warpgroup-MMA kernel (s8 only: the s4 path keeps the warp-split kernel)
    if (!(bits == 4 && use_s4()) && w4::wgmma_draft::use(M, N, K, group)) {
        const int e = w4::wgmma_draft::launch(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, false, st);
        if (e != NO_TENSOR_MAP) return e;  // else: the tiled or warp-split kernels
    }
    // Large M: the CTA-tiled s8 kernel (group % 128 == 0; the s4 path keeps the warp-split kernel).
    if (group % KSTEP == 0 && !(bits == 4 && use_s4()) && use_tiled_gemm(M, N, tiled::BM))
        return launch_tiled(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, st);
    // sm_90 at M = 9-16: the bulk-copy kernel with two token tiles (launch_bulk_two_token_tiles)
    if (const int e = launch_bulk_two_token_tiles(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, bits,
                                                  accumulate != 0, w4::bulk::PLAIN, st);
        e != w4::bulk::NOT_TAKEN)
        return e;  // else: the warp-split kernel
    // sm_90 decode: the bulk-copy kernel (s8 only: the s4 path keeps the warp-split kernel)
    if (const int e = launch_bulk_decode(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, bits, accumulate != 0,
                                         w4::bulk::PLAIN, st);
        e != w4::bulk::NOT_TAKEN)
        return e;  // else: the warp-split kernel
    if (M <= 8) return launch<1, 1>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, bits, accumulate != 0, st);
    if (M <= 16) return launch<2, 1>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, bits, accumulate != 0, st);
    return launch<4, 1>(xq, xscale, w_packed, ws, y, ldy, M, N, K, group, bits, accumulate != 0, st);
}

QSPEC_API int qspec_w4ax_gemm_add_rmsnorm_quantize(const int8_t* xq, const float* xscale, const uint8_t* w_packed,
                                                   const void* w_scales_f16, float* y, int M, int N, int K, int group,
                                                   int bits, const float* norm_w, float eps, int out_group,
                                                   int8_t* out_q, float* out_scale, unsigned* ticket,
                                                   qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || (bits != 8 && bits != 4)) return QSPEC_ERR_UNSUPPORTED;
    if (out_group <= 0 || out_group % 32 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(xq) % 16 != 0 || reinterpret_cast<uintptr_t>(w_packed) % 16 != 0)
        return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || N <= 0 || K <= 0) return 0;
    if (rms::tail_applies(M, N, y, norm_w, ticket) && rms::fits_register_groups(N, out_group) &&
        reinterpret_cast<uintptr_t>(out_q) % 4 == 0) {
        const w4::bulk::Epilogue tail{{ticket, norm_w, eps, nullptr, out_q, out_scale, out_group, bits == 8 ? 127.f : 7.f},
                                      nullptr};
        const int e = launch_bulk_decode(xq, xscale, w_packed, static_cast<const half*>(w_scales_f16), y, N, M, N, K,
                                         group, bits, true, tail, reinterpret_cast<cudaStream_t>(stream));
        if (e != w4::bulk::NOT_TAKEN) return e;  // else: the two launches below, the same bits
    }
    if (const int e = qspec_w4ax_gemm(xq, xscale, w_packed, w_scales_f16, y, N, M, N, K, group, bits, 1,
                                      QSPEC_TOKENS_ROW, stream))
        return e;
    return qspec_rmsnorm_quantize(y, norm_w, out_q, out_scale, M, N, out_group, bits, eps, QSPEC_TOKENS_ROW, stream);
}

// The draft GEMM that normalises and quantizes its own input (ABI 10): in decode passes (rms::head_applies: M <= 2,
// rows of at most 4096, groups of 128) the bulk GEMV's CTAs each quantize the M rows' RMSNorm into their kept codes
// (w4_bulk.cuh, the head), one launch and one trip of the rows through HBM fewer; elsewhere qspec_rmsnorm_quantize
// writes the codes and scales to normed_q and normed_scale and the GEMM reads them there: the same bits.
// The draft's q|k|v GEMM with RoPE and the KV write (ABI 12): qspec_w4a16_gemm_rope_kv's epilogue on the draft's
// bulk-copy GEMV (s8 only), where rope_epilogue_applies (w4a16_gemm.cu); elsewhere the GEMM and qspec_rope_write_kv.
QSPEC_API int qspec_w4ax_gemm_rope_kv(const int8_t* xq, const float* xscale, const uint8_t* w_packed,
                                      const void* w_scales_f16, float* qkv, int M, int K, int group, int bits,
                                      float* q_out, void* k_pool_f16, void* v_pool_f16, const int32_t* token_seq,
                                      const int32_t* token_pos, const int32_t* block_tables, int max_blocks,
                                      int block_size, int heads, int kv_heads, int head_dim, const float* inv_freq,
                                      int rope_style, int x_order, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || (bits != 8 && bits != 4) ||
        !w4::bulk::rope_arguments_valid(heads, kv_heads, head_dim, rope_style))
        return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(xq) % 16 != 0 || reinterpret_cast<uintptr_t>(w_packed) % 16 != 0)
        return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || K <= 0) return 0;
    const int N = (heads + 2 * kv_heads) * head_dim;
    if (x_order == QSPEC_TOKENS_MMA && !token_order::w4ax_reads_mma_order(M, N, K, group, bits))
        return QSPEC_ERR_UNSUPPORTED;  // (so the epilogue, which reads rows in row order, never gets them: M > 32)
    const half* ws = static_cast<const half*>(w_scales_f16);
    cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
    const RopeKv rope{q_out,     static_cast<half*>(k_pool_f16), static_cast<half*>(v_pool_f16), token_seq, token_pos,
                      block_tables, inv_freq, max_blocks, block_size, heads, kv_heads, head_dim};
    return w4::bulk::gemm_rope_kv(
        rope, rope_style, qkv, M, st,
        [&](const w4::bulk::Epilogue& epi) {
            return M <= 8 ? launch_bulk_decode(xq, xscale, w_packed, ws, qkv, N, M, N, K, group, bits, false, epi, st)
                          : launch_bulk_two_token_tiles(xq, xscale, w_packed, ws, qkv, N, M, N, K, group, bits, false,
                                                        epi, st);
        },
        [&] { return qspec_w4ax_gemm(xq, xscale, w_packed, w_scales_f16, qkv, N, M, N, K, group, bits, 0, x_order,
                                     stream); });
}

QSPEC_API int qspec_rmsnorm_quantize_w4ax_gemm(const float* r, const float* norm_w, float eps, int8_t* normed_q,
                                               float* normed_scale, const uint8_t* w_packed, const void* w_scales_f16,
                                               float* y, int ldy, int M, int N, int K, int group, int bits,
                                               qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || (bits != 8 && bits != 4)) return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(normed_q) % 16 != 0 || reinterpret_cast<uintptr_t>(w_packed) % 16 != 0)
        return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || N <= 0 || K <= 0) return 0;
    if (group == KSTEP && rms::head_applies(M, K, r, norm_w)) {
        const w4::bulk::Epilogue head{{}, nullptr, {r, norm_w, eps, bits == 8 ? 127.f : 7.f}};
        const int e = launch_bulk_decode(normed_q, normed_scale, w_packed, static_cast<const half*>(w_scales_f16), y,
                                         ldy, M, N, K, group, bits, false, head, reinterpret_cast<cudaStream_t>(stream));
        if (e != w4::bulk::NOT_TAKEN) return e;  // else: the two launches below, the same bits
    }
    if (const int e = qspec_rmsnorm_quantize(r, norm_w, normed_q, normed_scale, M, K, group, bits, eps,
                                             QSPEC_TOKENS_ROW, stream))
        return e;
    return qspec_w4ax_gemm(normed_q, normed_scale, w_packed, w_scales_f16, y, ldy, M, N, K, group, bits, 0,
                           QSPEC_TOKENS_ROW, stream);
}
