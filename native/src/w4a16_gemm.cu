// Verify GEMM (W4A16): y[M,N] fp32 = x[M,K] fp16 * W^T, W read straight from the packed INT4 layout.
//
// Tensor cores for every M, tiled as in w4_tiles.cuh (weights = A operand of m16n8k16, tokens = B):
// a thread unpacks the nibbles of its two weight rows to fp16 in registers (magic-number LOP3
// trick, int4_to_half2x4 in common.cuh) and feeds them to the MMA with fp32 accumulation.
//  - group % 128 == 0 (FOLD): a 128-input step lies inside one scale group, so the MMAs take the
//    raw codes q (exact in fp16), and each step's fp32 sums are scaled once per output: the thread's
//    output rows are its own weight rows, so the scale is one load per row per step.
//  - other groups: the scale is multiplied into the unpacked fp16 weights (HMUL2) before the MMA.
// Five kernels, one summation order: w4a16_kernel splits K across the 8 warps of a block,
// w4a16_bulk_kernel (sm_90, M <= 16, N >= 4096) does the same with its bytes
// brought in by bulk copies, w4a16_cluster_kernel (sm_90, M >= 9) splits K across the 8 CTAs of a
// cluster, w4a16_tiled_kernel (large M) walks the slices one after another, and so does
// w4a16_wgmma_kernel (sm_90a, many tokens; w4a16_wgmma.cu) on warpgroup MMAs. All run step_mma (the
// last its wgmma equivalent) for every
// step, take the same steps in each of the 8 K slices and add the slices in slice order, so each
// output has the same bits whatever M is and whichever kernel ran: a verify pass reproduces
// one-token decoding exactly, which QSpec's "exactly W4A16 greedy" depends on. (A CUDA-core GEMV for
// M <= 2 once summed in another order, and QSpec's tokens parted from plain W4A16's at near-ties;
// docs/KERNELS.md.) The native test checks the bits across M and across the kernel switch.
#include <string.h>
#include "w4_bulk.cuh"
#include "token_order.cuh"
#include "w4a16_wgmma.cuh"

namespace {

using w4::KSTEP;
using w4::WK;

// 8 activations x[r][k .. k+8) of one token as one uint4 of 8 halves, zero beyond K.
__device__ __forceinline__ uint4 load_x8(const half* row, int k, int K, bool fast) {
    if (fast) return __ldg(reinterpret_cast<const uint4*>(row + k));
    union { uint4 u; half h[8]; } v;
#pragma unroll
    for (int e = 0; e < 8; ++e) v.h[e] = k + e < K ? row[k + e] : __float2half(0.f);
    return v.u;
}

// One 128-input step of a warp: for each word j, the A fragments of every row tile (rows g, g+8)
// and the two MMAs per token tile, then (FOLD) the step's sums scaled into acc. Every kernel here
// runs this one function, so every output is summed in the same order whichever kernel and tile
// shape computes it. xfrag(mt, j): token g's inputs kt+8j .. kt+8j+7 of token tile mt (8 halves).
template <int MT, int NT, bool FOLD, class XFrag>
__device__ __forceinline__ void step_mma(const uint4 (&wcur)[NT][2], const half (&scur)[NT][2], XFrag&& xfrag,
                                         float (&acc)[MT][NT][4]) {
    float part[MT][NT][4];  // FOLD: this step's unscaled sums
    zero_fragments(part);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        // A fragments: rows g (a0, a2) and g+8 (a1, a3); MMA 1 takes the input pairs (0,4), (1,5)
        // of word j, MMA 2 the pairs (2,6), (3,7)
        uint32_t a[NT][2][4];
#pragma unroll
        for (int i = 0; i < NT; ++i) {
            half2 lo[4], hi[4];
            const uint4& wl = wcur[i][0];
            const uint4& wh = wcur[i][1];
            int4_to_half2x4(j == 0 ? wl.x : j == 1 ? wl.y : j == 2 ? wl.z : wl.w, lo);
            int4_to_half2x4(j == 0 ? wh.x : j == 1 ? wh.y : j == 2 ? wh.z : wh.w, hi);
            if (!FOLD) {
                const half2 sl = __half2half2(scur[i][0]), sh = __half2half2(scur[i][1]);
#pragma unroll
                for (int p = 0; p < 4; ++p) {
                    lo[p] = __hmul2(lo[p], sl);
                    hi[p] = __hmul2(hi[p], sh);
                }
            }
#pragma unroll
            for (int q = 0; q < 2; ++q) {
                a[i][q][0] = *reinterpret_cast<uint32_t*>(&lo[2 * q]);
                a[i][q][1] = *reinterpret_cast<uint32_t*>(&hi[2 * q]);
                a[i][q][2] = *reinterpret_cast<uint32_t*>(&lo[2 * q + 1]);
                a[i][q][3] = *reinterpret_cast<uint32_t*>(&hi[2 * q + 1]);
            }
        }
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            // B fragments: token g's inputs kt+8j .. kt+8j+7 as the same pairs
            const uint4 xv = xfrag(mt, j);
            const uint32_t b1[2] = {__byte_perm(xv.x, xv.z, 0x5410), __byte_perm(xv.x, xv.z, 0x7632)};
            const uint32_t b2[2] = {__byte_perm(xv.y, xv.w, 0x5410), __byte_perm(xv.y, xv.w, 0x7632)};
#pragma unroll
            for (int i = 0; i < NT; ++i) {
                float* d = FOLD ? part[mt][i] : acc[mt][i];
                mma_f16(d, a[i][0], b1[0], b1[1]);
                mma_f16(d, a[i][1], b2[0], b2[1]);
            }
        }
    }
    if (FOLD) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
            for (int i = 0; i < NT; ++i) {
                const float s0 = __half2float(scur[i][0]), s1 = __half2float(scur[i][1]);
                acc[mt][i][0] = fmaf(part[mt][i][0], s0, acc[mt][i][0]);
                acc[mt][i][1] = fmaf(part[mt][i][1], s0, acc[mt][i][1]);
                acc[mt][i][2] = fmaf(part[mt][i][2], s1, acc[mt][i][2]);
                acc[mt][i][3] = fmaf(part[mt][i][3], s1, acc[mt][i][3]);
            }
    }
}

// Weights and scales of step s for rows g, g+8 of each row tile: FOLD needs the step's group scale;
// otherwise the scale of this thread's 32 inputs, multiplied in before the MMA. Loads only: nothing
// here reads what it loads (a conversion would wait for the load), so the step's bytes stay in flight
// until step_mma uses them.
template <int NT, bool FOLD>
__device__ __forceinline__ void load_step(const uint8_t* const (&wrow)[NT][2], const half* const (&srow)[NT][2], int s,
                                          int t, int Kp, int group, uint4 (*w)[2], half (*sc)[2]) {
    const int kt = s * KSTEP + 32 * t;
    const int gi = FOLD ? (group == KSTEP ? s : s * KSTEP / group) : kt / group;
#pragma unroll
    for (int i = 0; i < NT; ++i)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            if (kt < Kp) {
                w[i][h] = ld_stream_u4(wrow[i][h] + (long)s * (KSTEP / 2));
                sc[i][h] = srow[i][h][gi];
            } else {  // the tail of a row whose padded length is not a multiple of 128: q = 0
                w[i][h] = make_uint4(0x88888888u, 0x88888888u, 0x88888888u, 0x88888888u);
                sc[i][h] = __float2half(0.f);
            }
        }
}

constexpr int STAGES = 3;  // steps of weights (registers) and activations (shared memory) in flight

// Shared memory of one block: per warp, STAGES x MT x 4 words x 32 lanes of 8 activations (uint4).
template <int MT>
constexpr size_t smem_bytes() { return (size_t)WK * STAGES * MT * 4 * 32 * sizeof(uint4); }

template <int MT, int NT, bool FOLD>
__global__ void __launch_bounds__(WK * 32, MT == 1 ? 3 : MT == 2 ? 2 : 1)
    w4a16_kernel(const half* __restrict__ x, int ldx, const uint8_t* __restrict__ wp, const half* __restrict__ ws,
                 float* __restrict__ y, int ldy, int M, int N, int K, int group, bool vec, bool accumulate) {
    grid_dependency_wait();  // x and y (accumulate) may be the kernel before's output
    __shared__ float red[WK * MT * NT * 4 * 32];
    extern __shared__ uint4 xsm_all[];
    const w4::Tile tl(NT, MT);
    const int groups = (K + group - 1) / group, Kp = groups * group, row_bytes = Kp / 2;
    const int nsteps = (Kp + KSTEP - 1) / KSTEP;
    // this warp's activation ring; a thread reads back only what it copied itself (no barriers)
    uint4* xsm = xsm_all + tl.warp * (STAGES * MT * 4 * 32);

    const uint8_t* wrow[NT][2];
    const half* srow[NT][2];
#pragma unroll
    for (int i = 0; i < NT; ++i)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int n = tl.row(i, h, N);
            wrow[i][h] = wp + (long)n * row_bytes + 16 * tl.t;
            srow[i][h] = ws + (long)n * groups;
        }
    const half* xrow[MT];
    bool xok[MT];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
        const int m = tl.m_base + 8 * mt + tl.g;
        xok[mt] = m < M;
        xrow[mt] = x + (long)min(m, M - 1) * ldx;
    }

    float acc[MT][NT][4];
    zero_fragments(acc);

    auto load = [&](int s, uint4 (*w)[2], half (*sc)[2]) {
        load_step<NT, FOLD>(wrow, srow, s, tl.t, Kp, group, w, sc);
    };
    // token g's inputs kt .. kt+31 of step s into ring slot `slot`: asynchronous where aligned and
    // inside K, else element by element (zero beyond K and for tokens >= M)
    auto stage_x = [&](int slot, int s) {
        const int kt = s * KSTEP + 32 * tl.t;
        const bool fast = vec && kt + 32 <= K;
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                uint4* dst = xsm + ((slot * MT + mt) * 4 + j) * 32 + tl.lane;
                if (fast) cp_async_16(dst, xrow[mt] + kt + 8 * j, xok[mt]);
                else *dst = xok[mt] ? load_x8(xrow[mt], kt + 8 * j, K, false) : make_uint4(0, 0, 0, 0);
            }
    };

    // Two steps in flight ahead of the one being computed (Little's law at ~3 TB/s), in a ring of three
    // register buffers (weights, scales) and shared-memory slots (activations).
    uint4 wr[STAGES][NT][2];
    half sr[STAGES][NT][2];
    if (tl.warp < nsteps) { load(tl.warp, wr[0], sr[0]); stage_x(0, tl.warp); }
    cp_async_commit();
    if (tl.warp + WK < nsteps) { load(tl.warp + WK, wr[1], sr[1]); stage_x(1, tl.warp + WK); }
    cp_async_commit();
    w4::walk_ring3(tl.warp, nsteps, [&](auto slot_c, int s) {
        constexpr int slot = decltype(slot_c)::value, ahead = (slot + 2) % STAGES;
        if (s + 2 * WK < nsteps) { load(s + 2 * WK, wr[ahead], sr[ahead]); stage_x(ahead, s + 2 * WK); }
        cp_async_commit();
        cp_async_wait<2>();  // this step's activations have landed
        step_mma<MT, NT, FOLD>(wr[slot], sr[slot],
                               [&](int mt, int j) { return xsm[((slot * MT + mt) * 4 + j) * 32 + tl.lane]; }, acc);
    });
    cp_async_wait<0>();
    w4::reduce_store<MT, NT>(tl, acc, red, y, ldy, M, N, accumulate);
}

// sm_90 decode (M <= 8 MT, group 128, K % 1024 == 0): w4a16_kernel's sums with the weights and
// activations brought in by the tensor memory accelerator through the ring of w4_bulk.cuh instead of
// per-thread loads, for NT row tiles and MT token tiles per CTA. Warp w takes step w of every chunk
// (steps w, w + 8, ...: its slice, as in w4a16_kernel) and the slices are added in warp order: the same
// step_mma on the same data in the same order, so the same bits. What changes is that the bytes in
// flight no longer live in registers. WALK (two or four row tiles, one token tile, or KEEP): a CTA walks several
// row tiles (w4_bulk.cuh); otherwise it takes one, blockIdx.y (with two token tiles its reduction reuses the
// ring). KEEP: the tokens' activations are copied once and kept for the walk (w4_bulk.cuh). KZ = 2: a cluster of
// two CTAs splits K, warp w of CTA z taking slice 4z + w % 4 of the row tiles w / 4 (w4_bulk.cuh, K_SPLIT).
// HEAD (KEEP): x is not read; the consumer warps first normalise epi.head's rows into the kept activations, the bits
// qspec_rmsnorm_f16 would have stored in x (norm_rows.cuh, run_head).
// (launch bounds: w4_bulk.cuh min_ctas, max_regs)
template <int NT, int R, int MT, bool WALK, int EPI, bool KEEP, int KZ = 1, bool HEAD = false>
__global__ void __launch_bounds__(w4::bulk::THREADS, (w4::bulk::min_ctas<NT, MT>())) __maxnreg__((w4::bulk::max_regs<NT, MT>()))
    w4a16_bulk_kernel(const __grid_constant__ CUtensorMap wmap, const half* __restrict__ x, int ldx,
                      const half* __restrict__ ws, float* __restrict__ y, int ldy, int M, int N, int K,
                      bool accumulate, const w4::bulk::Epilogue epi) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900  // launched on sm_90 only
    using namespace w4::bulk;
    extern __shared__ __align__(128) uint8_t bsm[];
    // the warps' sums for the reduction: static, or (two token tiles, where 16 KB more would cost the
    // second CTA per SM) in the ring once every warp is done with it, or (two token tiles that walk, KEEP)
    // after the kept activations
    __shared__ float red_static[MT == 1 && KZ == 1 ? WK * NT * 4 * 32 : 1];
    Ring<2, NT, R, KEEP, KZ> ring(bsm, K);
    // (NT / KZ: the row tiles a warp multiplies, WK / KZ the steps a CTA takes of a chunk; not local constants, which
    // crash cicc 13.0 as the bounds of arrays that lambdas capture)
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2;
    // the warp's slice (its step of every chunk) and its first row in the CTA's tile
    const int slice = KZ > 1 ? (int)blockIdx.z * (WK / KZ) + warp % (WK / KZ) : warp,
              rows0 = KZ > 1 ? (warp / (WK / KZ)) * (NT / KZ) * 16 : 0;
    const int groups = K / KSTEP, tiles = (N + 16 * NT - 1) / (16 * NT);
    static_assert(MT == 1 || !WALK || KEEP,
                  "two token tiles reduce in the ring unless KEEP, so they take one row tile");
    static_assert(!KEEP || WALK, "KEEP takes the walking build");
    static_assert(KZ == 1 || (!WALK && EPI == STORE), "a K split takes one row tile and plain stores");
    static_assert(MT == 1 || EPI == STORE || (EPI == ROPE_KV && MT == 2),
                  "the epilogues follow the stores of one token tile (RoPE: one or two)");
    static_assert(!HEAD || (KEEP && MT == 1 && KZ == 1), "the head fills the kept activations of one token tile");
    const Walk wk{(int)blockIdx.y, (int)gridDim.y, tiles, K / CHUNK};
    float acc[MT][NT / KZ][4];
    zero_fragments(acc);
    if (warp == WK) {
        // HEAD: the weights alone (no tokens to copy), once the head's first loads have landed (named barrier 2)
        if constexpr (HEAD) asm volatile("bar.sync 2, %0;" ::"n"(THREADS) : "memory");
        if (lane == 0)
            ring.template produce<WALK>(&wmap, reinterpret_cast<const uint8_t*>(x), 2L * ldx, HEAD ? 0 : M, wk);
        __syncwarp();
    } else {
        ScaleRows<NT / KZ, (KEEP && MT > 1)> srow;  // step slice + 8c's group: c * 8 further
        srow.set(ws, wk.tile0 * 16 * NT + rows0, g, N, groups, slice);
        // the scales of chunks c and c + 1, in buffers indexed at compile time (chunk c's: (c % R) % SB): a
        // chunk ahead, and never moved or converted before step_mma uses them (either would wait for the load)
        constexpr int SB = R % 2 == 0 ? 2 : R;
        half sr[SB][NT / KZ][2];
        auto load_scales = [&](int b, int c) {
#pragma unroll
            for (int i = 0; i < NT / KZ; ++i)
#pragma unroll
                for (int h = 0; h < 2; ++h) sr[b][i][h] = srow.at(ws, i, h, c);
        };
        load_scales(0, 0);
        grid_dependency_wait();  // y (accumulate), the head's rows, may be the kernel before's output
        if constexpr (HEAD)  // red_static is free until the first tile's sums
            rms::run_head<WK>(
                epi.head, M, K, red_static,
                [&](int m, int c, bool valid, float4 v, float rinv, float4 gain) {
                    if (valid) rms::store_half4(reinterpret_cast<half*>(ring.xst + m * ring.kept_pitch), c, v, rinv, gain);
                },
                [] { asm volatile("bar.arrive 2, %0;" ::"n"(THREADS) : "memory"); });
        int xm[MT];  // token g of each token tile; tokens past M read token M - 1 (their outputs are never stored)
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) xm[mt] = min(8 * mt + g, M - 1);
        ring.template consume<WALK>(
            warp, lane, xm, wk, [&](int) { zero_fragments(acc); },
            [&](auto r, int tile, int c) {  // a chunk ahead: the next tile's first chunk after a tile's last (a
                                            // walk has nchunks % R == 0, so that one is in buffer 0)
                if (c + 1 < wk.nchunks) {
                    load_scales((decltype(r)::value + 1) % SB, c + 1);
                } else if (WALK && tile + wk.tstep < wk.ntiles) {
                    srow.set(ws, (tile + wk.tstep) * 16 * NT + rows0, g, N, groups, slice);
                    load_scales(0, 0);
                }
            },
            [&](auto r, int, const uint4 (&w)[NT / KZ][2], auto&& xv) {
                if constexpr (MT == 4) {  // blocks of two token tiles by two row tiles (a step's sums of all 16 spill)
                    constexpr int NS = NT / KZ < 2 ? NT / KZ : 2;
#pragma unroll
                    for (int i0 = 0; i0 < NT / KZ; i0 += NS)
#pragma unroll
                        for (int m0 = 0; m0 < MT; m0 += 2) {
                            float blk[2][NS][4];
                            take_block(acc, m0, i0, blk);
                            const auto& sb = sr[decltype(r)::value % SB];
                            step_mma<2, NS, true>(*reinterpret_cast<const uint4(*)[NS][2]>(&w[i0]),
                                                  *reinterpret_cast<const half(*)[NS][2]>(&sb[i0]),
                                                  [&](int mt, int j) { return xv(m0 + mt, j); }, blk);
                            put_block(blk, m0, i0, acc);
                        }
                } else {
                    step_mma<MT, NT / KZ, true>(w, sr[decltype(r)::value % SB], xv, acc);
                }
            },
            [&](int tile) {
                if constexpr (KZ > 1) (void)tile;  // the cluster's sum below
                else if constexpr (EPI == SWIGLU)
                    reduce_swiglu(acc, red_static, y, ldy, M, N, tile * 16 * NT, epi.swiglu);
                else if constexpr (MT == 1)
                    reduce_tile<true, EPI>(acc, red_static, y, ldy, M, N, tile * 16 * NT, accumulate, epi);
                else if constexpr (WALK)
                    reduce_tile<true, EPI>(acc, ring.after_kept(M), y, ldy, M, N, tile * 16 * NT, accumulate, epi);
            });
    }
    if constexpr (KZ > 1) {
        __syncthreads();  // every warp is past its last chunk: the ring is free
        cluster_reduce_store<MT, NT, KZ>(acc, reinterpret_cast<float*>(bsm + BARRIERS), y, ldy, M, N,
                                         blockIdx.y * 16 * NT, accumulate);
    } else if constexpr (MT > 1 && !WALK) {
        __syncthreads();  // every warp is past its last chunk: the ring is free
        reduce_tile<false, EPI>(acc, reinterpret_cast<float*>(bsm + BARRIERS), y, ldy, M, N, blockIdx.y * 16 * NT,
                                accumulate, epi);
    } else if constexpr (EPI == NORM_TAIL) {  // every chunk has landed and been used: the ring is free
        rms::run_tail<THREADS>(epi.norm, y, M, N, reinterpret_cast<float*>(bsm + BARRIERS));
    }
#endif
}

// The bulk-copy kernel for w4::bulk::launch (w4_bulk.cuh).
struct BulkKernels {
    static constexpr int XB = 2;  // bytes of one activation input
    static constexpr bool SWIGLU = true;  // the SWIGLU epilogue
    template <int NT, int R, int MT, bool WALK, int EPI, bool KEEP>
    static constexpr auto kernel = w4a16_bulk_kernel<NT, R, MT, WALK, EPI, KEEP>;
    static constexpr bool K_SPLIT = true;  // the K split over a cluster (w4_bulk.cuh)
    template <int NT, int R, int MT, int KZ>
    static constexpr auto k_split_kernel = w4a16_bulk_kernel<NT, R, MT, false, w4::bulk::STORE, false, KZ>;
    static constexpr bool NORM_HEAD = true;  // the RMSNorm of its input in each CTA (w4_bulk.cuh)
    template <int NT, int EPI>
    static constexpr auto head_kernel = w4a16_bulk_kernel<NT, 2, 1, true, EPI, true, 1, true>;
};

// Whether W4A16 at M = 9-16 takes the bulk-copy kernel with two token tiles rather than the cluster
// kernel: for 4096 <= N <= 8192 with two row tiles, and on wider matrices with four (wide_row_tiles; with
// QSPEC_BULK_WIDE_ROWS=32, two row tiles up to M = 12). use_bulk_gemv checks the rest.
// Measured on the H200 (docs/KERNELS.md): it wins on N = 4096 (q/o at M = 16 9.4 -> 8.3 us, down 24.1 ->
// 21.6); on the wide matrices, whose cluster kernel fills the GPU, two row tiles won at M = 9-12 (lm_head 161 /
// 162 -> 145 / 157 us) and lost at 16 (163 -> 173); four win at M = 9-16 (lm_head 166-169 -> 136-137 at 16).
// QSPEC_BULK_M16=0: never; QSPEC_BULK_M16=all: for every N and M (tests). Same bits either way.
inline bool bulk_two_token_tiles(int M, int N) {
    static const int mode = w4::bulk::env_switch("QSPEC_BULK_M16");
    return mode == 2 || (mode == 1 && (N <= 8192 || M <= 12 || w4::bulk::wide_row_tiles(N)));
}

// sm_90: the same sums with the K split across the 8 CTAs of a thread-block cluster instead of the 8
// warps of a block. CTA z of a cluster computes slice z (steps z, z+8, ...: the steps warp z of
// w4a16_kernel takes) for 128 rows (its 8 warps, 16 rows each) and 8*MT tokens, so its warps share
// one activation tile per step (staged once in shared memory, 1/8 of the activation traffic of
// w4a16_kernel, where every warp reads its own). The slices are then summed through distributed
// shared memory in slice order, 0 + P0 + P1 + ... + P7: the order of w4a16_kernel's block reduction,
// so both kernels give the same bits and either may serve any M.
using w4::CROWS;
constexpr int XROW = 20;  // uint4 units per token row of the tile: 16 used, padded against bank conflicts

template <int MT>
struct ClusterSmem {
    static constexpr int ring = STAGES * MT * 8 * XROW;  // uint4
    static constexpr int red = WK * MT * 4 * 32 / 4;     // uint4 (floats / 4)
    static constexpr int units = ring > red ? ring : red;
};

// Unit v of a token row holds inputs 32 (v % 4) + 8 (v / 4) .. +7 of the step: thread t's word j is
// unit 4j + t, so the 8 lanes of a 16-byte shared-memory phase hit distinct banks.
[[maybe_unused]] __device__ __forceinline__ int x_unit(int t, int j) { return 4 * j + t; }

template <int MT, bool FOLD, int MINB = (MT <= 2 ? 2 : 1)>
__global__ void __launch_bounds__(WK * 32, MINB)
    w4a16_cluster_kernel(const half* __restrict__ x, int ldx, const uint8_t* __restrict__ wp,
                         const half* __restrict__ ws, float* __restrict__ y, int ldy, int M, int N, int K, int group,
                         bool vec, bool accumulate) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900  // launched on sm_90 only
    __shared__ uint4 smem[ClusterSmem<MT>::units];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const int slice = blockIdx.z, m_base = blockIdx.x * MT * 8, n_base = blockIdx.y * CROWS + warp * 16;
    const int groups = (K + group - 1) / group, Kp = groups * group, row_bytes = Kp / 2;
    const int nsteps = (Kp + KSTEP - 1) / KSTEP;

    const uint8_t* wrow[1][2];
    const half* srow[1][2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int n = min(n_base + 8 * h + g, N - 1);
        wrow[0][h] = wp + (long)n * row_bytes + 16 * t;
        srow[0][h] = ws + (long)n * groups;
    }
    float acc[MT][1][4];
#pragma unroll
    for (int a = 0; a < MT; ++a)
#pragma unroll
        for (int c = 0; c < 4; ++c) acc[a][0][c] = 0.f;

    // the block copies step s's tile (8*MT tokens x 128 inputs) into ring slot `slot`
    auto stage_x = [&](int slot, int s) {
        for (int e = threadIdx.x; e < MT * 8 * 16; e += WK * 32) {
            const int r = e >> 4, u = e & 15, m = m_base + r, k = s * KSTEP + 8 * u;
            uint4* dst = smem + (slot * MT * 8 + r) * XROW + x_unit(u >> 2, u & 3);
            const half* src = x + (long)min(m, M - 1) * ldx + k;
            if (vec && k + 8 <= K) cp_async_16(dst, src, m < M);
            else *dst = m < M ? load_x8(src - k, k, K, false) : make_uint4(0, 0, 0, 0);
        }
    };

    uint4 wr[STAGES][1][2];
    half sr[STAGES][1][2];
    if (slice < nsteps) { load_step<1, FOLD>(wrow, srow, slice, t, Kp, group, wr[0], sr[0]); stage_x(0, slice); }
    cp_async_commit();
    if (slice + WK < nsteps) {
        load_step<1, FOLD>(wrow, srow, slice + WK, t, Kp, group, wr[1], sr[1]);
        stage_x(1, slice + WK);
    }
    cp_async_commit();
    w4::walk_ring3(slice, nsteps, [&](auto slot_c, int s) {
        constexpr int slot = decltype(slot_c)::value, ahead = (slot + 2) % STAGES;
        cp_async_wait<1>();
        __syncthreads();  // step s's tile is complete, and every warp is done with step s - WK's slot
        if (s + 2 * WK < nsteps) {
            load_step<1, FOLD>(wrow, srow, s + 2 * WK, t, Kp, group, wr[ahead], sr[ahead]);
            stage_x(ahead, s + 2 * WK);
        }
        cp_async_commit();
        const uint4* tile = smem + slot * MT * 8 * XROW;
        step_mma<MT, 1, FOLD>(wr[slot], sr[slot],
                              [&](int mt, int j) { return tile[(mt * 8 + g) * XROW + x_unit(t, j)]; }, acc);
    });
    cp_async_wait<0>();
    __syncthreads();  // the ring is reused for the partial sums

    w4::cluster_reduce_store<MT>(acc, reinterpret_cast<float*>(smem), y, ldy, M, N, accumulate);
#endif
}

template <int MT>
int launch_cluster(const half* x, int ldx, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K,
                   int group, bool accumulate, cudaStream_t st) {
    const bool vec = (reinterpret_cast<uintptr_t>(x) % 16 == 0) && (ldx % 8 == 0);
    const dim3 grid(ceil_div(M, MT * 8), ceil_div(N, CROWS), WK);
    // MT = 8 fits two CTAs per SM only under a 128-register cap (one wave instead of two for 256
    // CTAs); QSPEC_CLUSTER_MINB=1 keeps the uncapped build
    if constexpr (MT == 8) {
        if (cluster_min_blocks() == 2)
            return w4::launch_cluster_kernel(group % KSTEP == 0 ? w4a16_cluster_kernel<MT, true, 2>
                                                                : w4a16_cluster_kernel<MT, false, 2>,
                                             grid, st, x, ldx, wp, ws, y, ldy, M, N, K, group, vec, accumulate);
    }
    return w4::launch_cluster_kernel(group % KSTEP == 0 ? w4a16_cluster_kernel<MT, true> : w4a16_cluster_kernel<MT, false>,
                                     grid, st, x, ldx, wp, ws, y, ldy, M, N, K, group, vec, accumulate);
}

// Large M: CTA tiles of 128 rows x 64 tokens over the whole K. The warps form a 4 (rows) x 2 (tokens)
// grid of 32 x 32 tiles (two row tiles, four token tiles: step_mma<4, 2>) and share each step's weight
// and activation tiles through shared memory. A warp takes the steps in slice order and keeps each
// slice's sums apart from the total: total = 0 + P0 + P1 + ... + P7, where Pz is summed over the
// steps of slice z in order, exactly as warp z of w4a16_kernel sums them and its reduction adds them,
// so this kernel gives the same bits too. (Only the weight and activation tiles are shared; the
// arithmetic of every output is step_mma's.)
namespace tiled {
constexpr int MT = 4, NT = 2;
using Warp = w4::TiledWarp<4, NT, MT>;  // 4 warps along the rows: 128 x 64 tiles
constexpr int BM = Warp::BM;
constexpr int XUNITS = BM * XROW;  // activation tile: x_unit layout, XROW per token
constexpr size_t smem_bytes = (size_t)w4::TSTAGES * (w4::WUNITS + XUNITS) * sizeof(uint4);
}  // namespace tiled

template <bool FOLD, int MINB>
__global__ void __launch_bounds__(WK * 32, MINB)
    w4a16_tiled_kernel(const half* __restrict__ x, int ldx, const uint8_t* __restrict__ wp, const half* __restrict__ ws,
                       float* __restrict__ y, int ldy, int M, int N, int K, int group, bool accumulate) {
    using namespace tiled;
    extern __shared__ uint4 tsm[];
    uint4* const wsm = tsm;                               // [TSTAGES][WUNITS]
    uint4* const xsm = tsm + w4::TSTAGES * w4::WUNITS;    // [TSTAGES][XUNITS]
    const Warp tw;
    const int g = tw.g, t = tw.t, n0 = tw.n0, m0 = tw.m0, wr = tw.wr, wm = tw.wm;
    const int groups = (K + group - 1) / group, Kp = groups * group, row_bytes = Kp / 2;
    const int nsteps = (Kp + KSTEP - 1) / KSTEP;

    const half* srow[NT][2];
#pragma unroll
    for (int i = 0; i < NT; ++i)
#pragma unroll
        for (int h = 0; h < 2; ++h) srow[i][h] = ws + (long)tw.row(i, h, N) * groups;

    // step s's tiles into ring slot `slot` (activations: K % 8 == 0, so a unit is all in or all out)
    auto stage = [&](int slot, int s) {
        w4::stage_weights(wsm + slot * w4::WUNITS, wp, n0, N, row_bytes, Kp, s);
        for (int e = threadIdx.x; e < BM * 16; e += WK * 32) {
            const int r = e >> 4, u = e & 15, m = m0 + r, k = s * KSTEP + 8 * u;
            cp_async_16(xsm + slot * XUNITS + r * XROW + x_unit(u >> 2, u & 3),
                        x + (long)min(m, M - 1) * ldx + min(k, K - 8), m < M && k < K);
        }
    };

    float total[MT][NT][4], sl[MT][NT][4];
    zero_fragments(total);
    zero_fragments(sl);

    int s = 0, s1 = w4::next_step_in_slice_order(0, nsteps), s2 = s1 < 0 ? -1 : w4::next_step_in_slice_order(s1, nsteps);
    stage(0, s);
    cp_async_commit();
    if (s1 >= 0) stage(1, s1);
    cp_async_commit();
    for (int slot = 0; s >= 0; slot = slot == w4::TSTAGES - 1 ? 0 : slot + 1) {
        // this thread's rows' scales for step s (as load_step takes them)
        half scur[NT][2];
        const int kt = s * KSTEP + 32 * t, gi = FOLD ? (group == KSTEP ? s : s * KSTEP / group) : kt / group;
#pragma unroll
        for (int i = 0; i < NT; ++i)
#pragma unroll
            for (int h = 0; h < 2; ++h) scur[i][h] = kt < Kp ? srow[i][h][gi] : __float2half(0.f);
        cp_async_wait<1>();
        __syncthreads();  // step s's tiles are complete, and every warp is done with the slot refilled next
        if (s2 >= 0) stage(slot == 0 ? 2 : slot - 1, s2);
        cp_async_commit();
        const uint4* wt = wsm + slot * w4::WUNITS;
        const uint4* xt = xsm + slot * XUNITS;
        uint4 wcur[NT][2];
#pragma unroll
        for (int i = 0; i < NT; ++i)
#pragma unroll
            for (int h = 0; h < 2; ++h) wcur[i][h] = wt[(wr + 16 * i + 8 * h + g) * 4 + t];
        step_mma<MT, NT, FOLD>(wcur, scur, [&](int mt, int j) { return xt[(wm + 8 * mt + g) * XROW + x_unit(t, j)]; },
                               sl);
        const int next = s1;
        if (next < 0 || next % WK != s % WK) {  // slice s % WK is complete: total += its sums, in slice order
#pragma unroll
            for (int a = 0; a < MT; ++a)
#pragma unroll
                for (int b = 0; b < NT; ++b)
#pragma unroll
                    for (int c = 0; c < 4; ++c) {
                        total[a][b][c] += sl[a][b][c];
                        sl[a][b][c] = 0.f;
                    }
        }
        s = s1;
        s1 = s2;
        s2 = s2 < 0 ? -1 : w4::next_step_in_slice_order(s2, nsteps);
    }
    cp_async_wait<0>();
    tw.store(total, y, ldy, M, N, accumulate);
}

template <int MINB>
int launch_tiled(const half* x, int ldx, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K,
                 int group, bool accumulate, cudaStream_t st) {
    const bool fold = group % KSTEP == 0;
    auto kernel = fold ? w4a16_tiled_kernel<true, MINB> : w4a16_tiled_kernel<false, MINB>;
    static unsigned long long smem_allowed[2];  // devices opted in, per kernel variant
    if (const int e = allow_dynamic_smem(kernel, tiled::smem_bytes, smem_allowed[fold])) return e;
    const dim3 grid(ceil_div(M, tiled::BM), ceil_div(N, w4::BN));
    kernel<<<grid, WK * 32, tiled::smem_bytes, st>>>(x, ldx, wp, ws, y, ldy, M, N, K, group, accumulate);
    return qspec_launch_status();
}

int launch_tiled(const half* x, int ldx, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K,
                 int group, bool accumulate, cudaStream_t st) {
    const long ctas = (long)ceil_div(M, tiled::BM) * ceil_div(N, w4::BN);
    return tiled_min_blocks(ctas) == 1 ? launch_tiled<1>(x, ldx, wp, ws, y, ldy, M, N, K, group, accumulate, st)
                                       : launch_tiled<2>(x, ldx, wp, ws, y, ldy, M, N, K, group, accumulate, st);
}

template <int MT, int NT>
int launch(const half* x, int ldx, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K,
           int group, bool accumulate, cudaStream_t st) {
    const bool vec = (reinterpret_cast<uintptr_t>(x) % 16 == 0) && (ldx % 8 == 0);
    const dim3 grid = w4::grid_of(M, N, NT, MT);
    const size_t smem = smem_bytes<MT>();
    const bool fold = group % KSTEP == 0;
    auto kernel = fold ? w4a16_kernel<MT, NT, true> : w4a16_kernel<MT, NT, false>;
    static unsigned long long smem_allowed[2];  // devices opted in, per kernel variant
    if (const int e = allow_dynamic_smem(kernel, smem + sizeof(float) * WK * MT * NT * 4 * 32, smem_allowed[fold]))
        return e;
    return launch_dependent(kernel, grid, WK * 32, smem, st, false, x, ldx, wp, ws, y, ldy, M, N, K, group, vec,
                            accumulate);
}

// sm_90 decode (M <= 8): the bulk-copy kernel with one token tile and the epilogue `epi`; NOT_TAKEN where it does
// not apply (use_bulk_gemv, activation rows in 16-byte units, w4::bulk::launch) or the driver cannot describe the
// weights (the caller then takes another kernel: the same bits).
int launch_bulk_decode(const half* x, int ldx, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N,
                       int K, int group, bool accumulate, const w4::bulk::Epilogue& epi, cudaStream_t st) {
    const bool vec = (reinterpret_cast<uintptr_t>(x) % 16 == 0) && (ldx % 8 == 0);
    if (!vec || !w4::bulk::use_bulk_gemv(M, N, K, group, true)) return w4::bulk::NOT_TAKEN;
    switch (w4::bulk::row_tiles(M, N, 2)) {  // four row tiles on wide matrices from M = 2
        case 4: return w4::bulk::launch<BulkKernels, 4>(wp, ws, y, ldy, M, N, K, accumulate, epi, st, x, ldx);
        case 2: return w4::bulk::launch<BulkKernels, 2>(wp, ws, y, ldy, M, N, K, accumulate, epi, st, x, ldx);
        default: return w4::bulk::launch<BulkKernels, 1>(wp, ws, y, ldy, M, N, K, accumulate, epi, st, x, ldx);
    }
}

// sm_90 at M = 9-16 (N >= 4096): the bulk-copy kernel with two token tiles and the epilogue `epi`, four row tiles per
// CTA on matrices wider than 8192 rows (and where two would make more CTAs than SMs, four_row_tiles_m16); NOT_TAKEN
// where it does not apply or the driver cannot describe the weights (the caller then takes another kernel: the same
// bits).
int launch_bulk_two_token_tiles(const half* x, int ldx, const uint8_t* wp, const half* ws, float* y, int ldy, int M,
                                int N, int K, int group, bool accumulate, const w4::bulk::Epilogue& epi,
                                cudaStream_t st) {
    const bool vec = (reinterpret_cast<uintptr_t>(x) % 16 == 0) && (ldx % 8 == 0);
    if (M <= 8 || !vec || !bulk_two_token_tiles(M, N) || !w4::bulk::use_bulk_gemv(M, N, K, group, true, 16))
        return w4::bulk::NOT_TAKEN;
    return w4::bulk::four_row_tiles_m16(N)
               ? w4::bulk::launch<BulkKernels, 4, 2>(wp, ws, y, ldy, M, N, K, accumulate, epi, st, x, ldx)
               : w4::bulk::launch<BulkKernels, 2, 2>(wp, ws, y, ldy, M, N, K, accumulate, epi, st, x, ldx);
}

}  // namespace

// The four-token-tile GEMV takes the call (qspec_w4a16_gemm's first choice).
static bool w4a16_four_token_tiles(bool vec, int M, int N, int K, int group) {
    return vec && w4::bulk::four_token_tiles(M, N) && w4::bulk::use_bulk_gemv(M, N, K, group, true, 32);
}

bool token_order::w4a16_reads_mma_order(const void* x_f16, int ldx, int M, int N, int K, int group) {
    const half* x = static_cast<const half*>(x_f16);
    const bool vec = (reinterpret_cast<uintptr_t>(x) % 16 == 0) && (ldx % 8 == 0);
    return M > 0 && N > 0 && K > 0 && group > 0 && !w4a16_four_token_tiles(vec, M, N, K, group) &&
           w4::wgmma_verify::use(x, ldx, M, N, K, group) && w4::wgmma_verify::takes_mma_order(M, N, K);
}

QSPEC_API int qspec_w4a16_gemm(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16,
                               float* y, int ldy, int M, int N, int K, int group, int accumulate, int x_order,
                               qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(w_packed) % 16 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (x_order != QSPEC_TOKENS_ROW && x_order != QSPEC_TOKENS_MMA) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || N <= 0 || K <= 0) return 0;
    const half* x = static_cast<const half*>(x_f16);
    const half* ws = static_cast<const half*>(w_scales_f16);
    cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
    if (x_order == QSPEC_TOKENS_MMA) {  // only the warpgroup kernel's DIRECT build reads them (qspec_tokens_order)
        if (!token_order::w4a16_reads_mma_order(x, ldx, M, N, K, group)) return QSPEC_ERR_UNSUPPORTED;
        const int e = w4::wgmma_verify::launch(x, ldx, w_packed, ws, y, ldy, M, N, K, accumulate != 0, true, st);
        return e == NO_TENSOR_MAP ? QSPEC_ERR_UNSUPPORTED : e;
    }
    // Token tiles per block grow with M (fewer weight re-reads); the order of every output's sum
    // does not change with them.
    // Large M: the CTA-tiled kernel (same bits), where activation rows are 16-byte aligned units.
    const bool vec = (reinterpret_cast<uintptr_t>(x) % 16 == 0) && (ldx % 8 == 0);
    // sm_90 at M = 17-32 (QSPEC_BULK_M32): the bulk-copy kernel with four token tiles (w4_bulk.cuh
    // four_token_tiles; same bits)
    if (w4a16_four_token_tiles(vec, M, N, K, group)) {
        const int e = w4::bulk::launch_four_token_tiles<BulkKernels>(w_packed, ws, y, ldy, M, N, K, accumulate != 0,
                                                                     st, x, ldx);
        if (e != NO_TENSOR_MAP) return e;  // else: the kernels below, same bits
    }
    // sm_90a, many tokens: the warpgroup kernel (same bits)
    if (w4::wgmma_verify::use(x, ldx, M, N, K, group)) {
        const int e = w4::wgmma_verify::launch(x, ldx, w_packed, ws, y, ldy, M, N, K, accumulate != 0, false, st);
        if (e != NO_TENSOR_MAP) return e;  // else: the kernels below, same bits
    }
    if (vec && K % 8 == 0 && use_tiled_gemm(M, N, tiled::BM))
        return launch_tiled(x, ldx, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, st);
    // sm_90 at M = 9-16: the bulk-copy kernel with two token tiles (launch_bulk_two_token_tiles; same bits)
    if (const int e = launch_bulk_two_token_tiles(x, ldx, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0,
                                                  w4::bulk::PLAIN, st);
        e != w4::bulk::NOT_TAKEN)
        return e;  // else: the cluster or warp-split kernel, same bits
    // sm_90 from M = 9: the cluster kernel (its shared activation tiles pay once tokens are many; at
    // M <= 8 the warp-split kernel streams faster). Both sum in one order, so the switch keeps the bits.
    if (M >= cluster_gemm_min_m() && device_major() >= 9) {
        const int e = M <= 8    ? launch_cluster<1>(x, ldx, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, st)
                      : M <= 16 ? launch_cluster<2>(x, ldx, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, st)
                      : M <= 32 ? launch_cluster<4>(x, ldx, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, st)
                                : launch_cluster<8>(x, ldx, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, st);
        if (e != CLUSTERS_UNAVAILABLE) return e;  // else: the warp-split kernel, same bits
    }
    if (const int e = launch_bulk_decode(x, ldx, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0,
                                         w4::bulk::PLAIN, st);
        e != w4::bulk::NOT_TAKEN)
        return e;  // else: the warp-split kernel, same bits
    if (M <= 8) return launch<1, 1>(x, ldx, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, st);
    if (M <= 16) return launch<2, 1>(x, ldx, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, st);
    return launch<4, 1>(x, ldx, w_packed, ws, y, ldy, M, N, K, group, accumulate != 0, st);
}

QSPEC_API int qspec_w4a16_gemm_add_rmsnorm(const void* x_f16, int ldx, const uint8_t* w_packed,
                                           const void* w_scales_f16, float* y, int M, int N, int K, int group,
                                           const float* norm_w, float eps, void* out_f16, unsigned* ticket,
                                           qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(w_packed) % 16 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || N <= 0 || K <= 0) return 0;
    if (rms::tail_applies(M, N, y, norm_w, ticket) && reinterpret_cast<uintptr_t>(out_f16) % 4 == 0) {
        const w4::bulk::Epilogue tail{{ticket, norm_w, eps, static_cast<half*>(out_f16), nullptr, nullptr, 0, 0.f},
                                      nullptr};
        const int e = launch_bulk_decode(static_cast<const half*>(x_f16), ldx, w_packed,
                                         static_cast<const half*>(w_scales_f16), y, N, M, N, K, group, true, tail,
                                         reinterpret_cast<cudaStream_t>(stream));
        if (e != w4::bulk::NOT_TAKEN) return e;  // else: the two launches below, the same bits
    }
    if (const int e = qspec_w4a16_gemm(x_f16, ldx, w_packed, w_scales_f16, y, N, M, N, K, group, 1, QSPEC_TOKENS_ROW,
                                       stream))
        return e;
    return qspec_rmsnorm_f16(y, norm_w, out_f16, M, N, eps, QSPEC_TOKENS_ROW, stream);
}

// SwiGLU in the epilogue applies: at most 8 tokens on sm_90 (the bulk-copy GEMV's one token tile), an even number of
// rows, rows of out in 2-byte units. QSPEC_SWIGLU_EPILOGUE=0 turns it off (measurements: the GEMM and the SwiGLU
// kernel then run one after the other; the same bits).
static bool swiglu_epilogue_applies(int M, int N) {
    static const int on = env_int("QSPEC_SWIGLU_EPILOGUE", 1);
    return on != 0 && M <= 8 && N % 2 == 0 && device_major() >= 9;
}

QSPEC_API int qspec_w4a16_gemm_swiglu(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16,
                                      float* gate_up, int M, int H, int K, int group, void* out_f16, int x_order,
                                      int out_order, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(w_packed) % 16 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (!token_order::writable(x_order, K) || !token_order::writable(out_order, H)) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || H <= 0 || K <= 0) return 0;
    const int N = 2 * H;
    // (the epilogue stores rows in row order, and reads them so)
    if (swiglu_epilogue_applies(M, N) && x_order == QSPEC_TOKENS_ROW && out_order == QSPEC_TOKENS_ROW) {
        const w4::bulk::Epilogue swiglu{{}, static_cast<half*>(out_f16)};
        const int e = launch_bulk_decode(static_cast<const half*>(x_f16), ldx, w_packed,
                                         static_cast<const half*>(w_scales_f16), gate_up, N, M, N, K, group, false,
                                         swiglu, reinterpret_cast<cudaStream_t>(stream));
        if (e != w4::bulk::NOT_TAKEN) return e;  // else: the two launches below, the same bits
    }
    if (const int e = qspec_w4a16_gemm(x_f16, ldx, w_packed, w_scales_f16, gate_up, N, M, N, K, group, 0, x_order,
                                       stream))
        return e;
    return qspec_swiglu_f16(gate_up, gate_up + H, N, out_f16, M, H, out_order, stream);
}

// ---- the q|k|v GEMM with RoPE and the KV write (ABI 12) ----
// In decode passes (rope_epilogue_applies: at most 8 tokens on sm_90, interleaved pairs) the bulk-copy GEMV's threads
// rotate and store the outputs they hold (w4_bulk.cuh, ROPE_KV), one launch fewer; elsewhere the GEMM and
// qspec_rope_write_kv run one after the other: the same bits. QSPEC_ROPE_EPILOGUE=0: never; =16: also the two-token-
// tile GEMVs of 9-16 tokens (session 46 on an H100: the same bits, 0.3-0.6 us slower alone at 12-16 tokens and within
// noise end to end, so not the default; docs/KERNELS.md).
bool w4::bulk::rope_epilogue_applies(int M, int rope_style) {
    static const int on = env_int("QSPEC_ROPE_EPILOGUE", 1);
    const int most = on == 0 ? 0 : on >= 16 ? 16 : 8;
    return rope_style == 0 && M <= most && device_major() >= 9;
}

QSPEC_API int qspec_w4a16_gemm_rope_kv(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16,
                                       float* qkv, int M, int K, int group, float* q_out, void* k_pool_f16,
                                       void* v_pool_f16, const int32_t* token_seq, const int32_t* token_pos,
                                       const int32_t* block_tables, int max_blocks, int block_size, int heads,
                                       int kv_heads, int head_dim, const float* inv_freq, int rope_style, int x_order,
                                       qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || !w4::bulk::rope_arguments_valid(heads, kv_heads, head_dim, rope_style))
        return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(w_packed) % 16 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || K <= 0) return 0;
    const int N = (heads + 2 * kv_heads) * head_dim;
    if (x_order == QSPEC_TOKENS_MMA && !token_order::w4a16_reads_mma_order(x_f16, ldx, M, N, K, group))
        return QSPEC_ERR_UNSUPPORTED;  // (so the epilogue, which reads rows in row order, never gets them: M > 32)
    const half *x = static_cast<const half*>(x_f16), *ws = static_cast<const half*>(w_scales_f16);
    cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
    const RopeKv rope{q_out,     static_cast<half*>(k_pool_f16), static_cast<half*>(v_pool_f16), token_seq, token_pos,
                      block_tables, inv_freq, max_blocks, block_size, heads, kv_heads, head_dim};
    return w4::bulk::gemm_rope_kv(
        rope, rope_style, qkv, M, st,
        [&](const w4::bulk::Epilogue& epi) {
            return M <= 8 ? launch_bulk_decode(x, ldx, w_packed, ws, qkv, N, M, N, K, group, false, epi, st)
                          : launch_bulk_two_token_tiles(x, ldx, w_packed, ws, qkv, N, M, N, K, group, false, epi, st);
        },
        [&] { return qspec_w4a16_gemm(x_f16, ldx, w_packed, w_scales_f16, qkv, N, M, N, K, group, 0, x_order,
                                      stream); });
}

// ---- the GEMMs that normalise their own input (ABI 10) ----
// In decode passes (rms::head_applies: M <= 2, rows of at most 4096) the bulk GEMV's CTAs each normalise the M rows
// into their kept activations (w4_bulk.cuh, the head), one launch and one trip of the rows through HBM fewer; elsewhere
// qspec_rmsnorm_f16 writes the rows to normed_f16 and the GEMM reads them there: the same bits.

QSPEC_API int qspec_rmsnorm_w4a16_gemm(const float* r, const float* norm_w, float eps, void* normed_f16,
                                       const uint8_t* w_packed, const void* w_scales_f16, float* y, int ldy, int M,
                                       int N, int K, int group, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(w_packed) % 16 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || N <= 0 || K <= 0) return 0;
    if (rms::head_applies(M, K, r, norm_w)) {
        const w4::bulk::Epilogue head{{}, nullptr, {r, norm_w, eps, 0.f}};
        const int e = launch_bulk_decode(static_cast<const half*>(normed_f16), K, w_packed,
                                         static_cast<const half*>(w_scales_f16), y, ldy, M, N, K, group, false, head,
                                         reinterpret_cast<cudaStream_t>(stream));
        if (e != w4::bulk::NOT_TAKEN) return e;  // else: the two launches below, the same bits
    }
    if (const int e = qspec_rmsnorm_f16(r, norm_w, normed_f16, M, K, eps, QSPEC_TOKENS_ROW, stream)) return e;
    return qspec_w4a16_gemm(normed_f16, K, w_packed, w_scales_f16, y, ldy, M, N, K, group, 0, QSPEC_TOKENS_ROW,
                            stream);
}

QSPEC_API int qspec_rmsnorm_w4a16_gemm_swiglu(const float* r, const float* norm_w, float eps, void* normed_f16,
                                              const uint8_t* w_packed, const void* w_scales_f16, float* gate_up, int M,
                                              int H, int K, int group, void* out_f16, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (reinterpret_cast<uintptr_t>(w_packed) % 16 != 0) return QSPEC_ERR_UNSUPPORTED;
    if (M <= 0 || H <= 0 || K <= 0) return 0;
    const int N = 2 * H;
    if (rms::head_applies(M, K, r, norm_w) && swiglu_epilogue_applies(M, N)) {
        const w4::bulk::Epilogue both{{}, static_cast<half*>(out_f16), {r, norm_w, eps, 0.f}};
        const int e = launch_bulk_decode(static_cast<const half*>(normed_f16), K, w_packed,
                                         static_cast<const half*>(w_scales_f16), gate_up, N, M, N, K, group, false,
                                         both, reinterpret_cast<cudaStream_t>(stream));
        if (e != w4::bulk::NOT_TAKEN) return e;  // else: the two calls below, the same bits
    }
    if (const int e = qspec_rmsnorm_f16(r, norm_w, normed_f16, M, K, eps, QSPEC_TOKENS_ROW, stream)) return e;
    return qspec_w4a16_gemm_swiglu(normed_f16, K, w_packed, w_scales_f16, gate_up, M, H, K, group, out_f16,
                                   QSPEC_TOKENS_ROW, QSPEC_TOKENS_ROW, stream);
}
