// Prefill tiles: causal attention on the tensor cores for the tokens of long runs (a prompt's tokens in its prefill
// pass), included by attention.cu.
//
// The row kernels of attention.cu give every (token, head) its own block and CUDA-core dot products, so a prefill of
// L tokens reads each K/V row L/2 times and spends no tensor-core time: 3.9 ms a layer for one 2048-token prompt of
// Llama-3-8B on the H100. Here a block takes 64 consecutive tokens of the pass (a window) and one q head, and walks
// the context in tiles of 64 positions: S = Q K^T and O += P V on mma.sync m16n8k16 (fp16 in, fp32 sums), an online
// softmax in fp32 per query row (exp2, the scale and log2 e folded into q), P rounded to fp16 for its MMA. Four warps
// take 16 query rows each.
//
// Which tokens: those whose sequence has at least MIN_RUN consecutive tokens in the pass (in_long_run; the pass lays a
// sequence's tokens out consecutively). A decode token (one a sequence) or a verify run (gamma + 1 <= 16) never has,
// so decode and verify keep the row kernels' arithmetic, which gives a verify token the bits of its decode; a prompt
// of 64 tokens or more takes the tiles in every mode's prefill alike. A token's result here depends on its own q, its
// position and its context only, not on the window's other rows: each row's sums are its own (an MMA row does not
// mix with another), and a context tile that is masked for a row (all positions past it) leaves that row's max, sum
// and output exactly as they were (a factor exp2(0) = 1, products with p = 0). So the tiles keep the row kernels'
// promise that a token's attention does not depend on the other tokens of the pass; they give other bits than the
// row kernels, not the same (rounding only: fp16 q and p).
#pragma once
#include <stdlib.h>
#include <string.h>
#include "common.cuh"

namespace tiles {

constexpr int TILE = 64;      // query rows of a block; positions of a context tile
constexpr int MIN_RUN = 64;   // tokens of one sequence in the pass from which they take the tiles
constexpr int THREADS = 128;  // four warps of 16 query rows

// Whether token i of a pass of T tokens belongs to a run of at least MIN_RUN consecutive tokens of its sequence, from
// `at(j)`: the sequence of token j (-1 outside the pass).
template <class At>
__device__ __forceinline__ bool in_long_run(At&& at, int i) {
    const int s = at(i);
    int n = 1;
    for (int j = i - 1; n < MIN_RUN && at(j) == s; --j) ++n;
    for (int j = i + 1; n < MIN_RUN && at(j) == s; ++j) ++n;
    return n >= MIN_RUN;
}

// in_long_run for token i, by all 32 lanes of the calling warp at once: each lane compares the sequences of two
// tokens before i and two after it (independent loads: one round of memory latency, where a walk would take up to 63).
__device__ __forceinline__ bool in_long_run_warp(const int32_t* __restrict__ token_seq, int T, int i) {
    const int lane = threadIdx.x & 31, s = token_seq[i];
    auto same = [&](int j) { return j >= 0 && j < T && token_seq[j] == s; };
    // bit l of lo: token i -/+ (l + 1) is of the sequence (offsets 1-32); of hi: i -/+ (l + 33) (offsets 33-64)
    const unsigned back_lo = __ballot_sync(0xffffffffu, same(i - lane - 1));
    const unsigned back_hi = __ballot_sync(0xffffffffu, same(i - lane - 33));
    const unsigned fwd_lo = __ballot_sync(0xffffffffu, same(i + lane + 1));
    const unsigned fwd_hi = __ballot_sync(0xffffffffu, same(i + lane + 33));
    // consecutive tokens of the sequence right before i (after i): the trailing ones of lo, then of hi
    auto count = [](unsigned lo, unsigned hi) {
        const int a = __ffs(~lo) - 1;  // ~lo == 0: 32 ones (__ffs(0) - 1 = -1)
        if (a >= 0) return a;
        const int b = __ffs(~hi) - 1;
        return 32 + (b >= 0 ? b : 32);
    };
    return count(back_lo, back_hi) + count(fwd_lo, fwd_hi) + 1 >= MIN_RUN;
}

// Block (window b, head h): the long-run tokens among tokens 64 b .. 64 b + 63, one segment (consecutive tokens of one
// sequence) at a time. all_long: every token of the pass is in a long run (the caller knows the runs).
template <int HD, int MINB>
__global__ void __launch_bounds__(THREADS, MINB) prefill_tiles_kernel(
    const float* __restrict__ q, const half* __restrict__ kpool, const half* __restrict__ vpool,
    const int32_t* __restrict__ token_seq, const int32_t* __restrict__ token_pos,
    const int32_t* __restrict__ block_tables, int max_blocks, int block_size, int T, int heads, int kv_heads,
    bool all_long, half* __restrict__ out) {
    static_assert(HD % 16 == 0 && HD <= 128, "head_dim: k steps of 16, at most 128");
    constexpr int PITCH = HD + 8;  // halves a row: 16-byte rows on distinct banks (ldmatrix, 32-bit loads)
    // two stages of K and V: tile kt + 1 is copied while tile kt is multiplied
    extern __shared__ __align__(16) uint8_t tiles_smem[];
    auto ks = reinterpret_cast<half(*)[TILE][PITCH]>(tiles_smem);
    auto vs = reinterpret_cast<half(*)[TILE][PITCH]>(tiles_smem + 2 * TILE * PITCH * sizeof(half));
    __shared__ int rseq[TILE], rpos[TILE];
    __shared__ bool rlong[TILE];
    __shared__ int around[TILE + 2 * (MIN_RUN - 1)];  // the sequences of the window's tokens and MIN_RUN - 1 each side
    // the windows latest in their sequences (the longest contexts) first, so that the shortest ones fill the tail
    const int w0 = (gridDim.x - 1 - blockIdx.x) * TILE, h = blockIdx.y, kvh = h / (heads / kv_heads);
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t4 = lane & 3;
    for (int k = tid; k < TILE + 2 * (MIN_RUN - 1); k += THREADS) {
        const int j = w0 - (MIN_RUN - 1) + k;
        around[k] = j >= 0 && j < T ? token_seq[j] : -1;
    }
    __syncthreads();
    if (tid < TILE) {
        const int i = w0 + tid;
        const bool valid = i < T;
        rseq[tid] = valid ? around[tid + MIN_RUN - 1] : -1;
        rpos[tid] = valid ? token_pos[i] : 0;
        // (around covers every token a walk from i reads before it stops at MIN_RUN)
        rlong[tid] = valid && (all_long || in_long_run([&](int j) { return around[j - w0 + MIN_RUN - 1]; }, i));
    }
    __syncthreads();
    const float qscale = rsqrtf((float)HD) * 1.4426950408889634f;  // softmax in base 2
    // the segments of the window, in order (block-uniform: every thread reads the same shared words)
    for (int r = 0; r < TILE;) {
        if (!rlong[r]) { ++r; continue; }
        const int s = rseq[r];
        int e = r + 1;
        while (e < TILE && rlong[e] && rseq[e] == s) ++e;
        int maxpos = 0;
        for (int j = r; j < e; ++j) maxpos = max(maxpos, rpos[j]);
        const int32_t* table = block_tables + (long)s * max_blocks;
        // this thread's rows (window rows 16 warp + g and + 8); rows outside the segment compute with q = 0 at
        // position maxpos (finite, never stored)
        const int row0 = warp * 16 + g, row1 = row0 + 8;
        const bool act0 = row0 >= r && row0 < e, act1 = row1 >= r && row1 < e;
        const int pos0 = act0 ? rpos[row0] : maxpos, pos1 = act1 ? rpos[row1] : maxpos;
        // the warp's rows in the segment, and the last context tile any of them needs
        const int wr0 = max(r, warp * 16), wr1 = min(e, warp * 16 + 16);
        int wmax = -1;
        for (int j = wr0; j < wr1; ++j) wmax = max(wmax, rpos[j]);
        uint32_t qa[HD / 16][4];
#pragma unroll
        for (int kk = 0; kk < HD / 16; ++kk) {
            const int c = 16 * kk + 2 * t4;
            const float* q0 = q + ((long)(w0 + row0) * heads + h) * HD;
            const float* q1 = q + ((long)(w0 + row1) * heads + h) * HD;
            const float2 a = act0 ? *reinterpret_cast<const float2*>(q0 + c) : make_float2(0.f, 0.f);
            const float2 b = act1 ? *reinterpret_cast<const float2*>(q1 + c) : make_float2(0.f, 0.f);
            const float2 a8 = act0 ? *reinterpret_cast<const float2*>(q0 + c + 8) : make_float2(0.f, 0.f);
            const float2 b8 = act1 ? *reinterpret_cast<const float2*>(q1 + c + 8) : make_float2(0.f, 0.f);
            qa[kk][0] = pack_half2(a.x * qscale, a.y * qscale);
            qa[kk][1] = pack_half2(b.x * qscale, b.y * qscale);
            qa[kk][2] = pack_half2(a8.x * qscale, a8.y * qscale);
            qa[kk][3] = pack_half2(b8.x * qscale, b8.y * qscale);
        }
        float o[HD / 8][4];
#pragma unroll
        for (int j = 0; j < HD / 8; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;
        float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;
        // one context tile: the scores, the online softmax and O += P V for the thread's two rows
        auto attend_tile = [&](const half (*ks_)[PITCH], const half (*vs_)[PITCH], int kt) {
            float sc[TILE / 8][4];
#pragma unroll
            for (int j = 0; j < TILE / 8; ++j) {
                sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.f;
#pragma unroll
                for (int kk = 0; kk < HD / 16; ++kk) {
                    const uint32_t b0 = *reinterpret_cast<const uint32_t*>(&ks_[8 * j + g][16 * kk + 2 * t4]);
                    const uint32_t b1 = *reinterpret_cast<const uint32_t*>(&ks_[8 * j + g][16 * kk + 2 * t4 + 8]);
                    mma_f16(sc[j], qa[kk], b0, b1);
                }
            }
            float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
            for (int j = 0; j < TILE / 8; ++j)
#pragma unroll
                for (int e2 = 0; e2 < 2; ++e2) {
                    const int col = kt * TILE + 8 * j + 2 * t4 + e2;
                    if (col > pos0) sc[j][e2] = -INFINITY;
                    if (col > pos1) sc[j][2 + e2] = -INFINITY;
                    mx0 = fmaxf(mx0, sc[j][e2]);
                    mx1 = fmaxf(mx1, sc[j][2 + e2]);
                }
#pragma unroll
            for (int x = 1; x <= 2; x <<= 1) {
                mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, x));
                mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, x));
            }
            const float mn0 = fmaxf(m0, mx0), mn1 = fmaxf(m1, mx1);  // finite: position 0 of tile 0 is every row's
            const float c0 = exp2f(m0 - mn0), c1 = exp2f(m1 - mn1);
            m0 = mn0;
            m1 = mn1;
            l0 *= c0;
            l1 *= c1;
#pragma unroll
            for (int j = 0; j < HD / 8; ++j) {
                o[j][0] *= c0;
                o[j][1] *= c0;
                o[j][2] *= c1;
                o[j][3] *= c1;
            }
            uint32_t pa[TILE / 16][4];  // P as the A fragments of the P V MMAs (the score fragments' own layout)
#pragma unroll
            for (int j = 0; j < TILE / 8; ++j) {
                const float p0 = exp2f(sc[j][0] - mn0), p1 = exp2f(sc[j][1] - mn0);
                const float p2 = exp2f(sc[j][2] - mn1), p3 = exp2f(sc[j][3] - mn1);
                l0 += p0 + p1;
                l1 += p2 + p3;
                pa[j / 2][(j & 1) * 2] = pack_half2(p0, p1);
                pa[j / 2][(j & 1) * 2 + 1] = pack_half2(p2, p3);
            }
#pragma unroll
            for (int kk = 0; kk < TILE / 16; ++kk) {
#pragma unroll
                for (int jd = 0; jd < HD / 8; jd += 2) {
                    // V rows 16 kk .. + 15, dims 8 jd .. 8 jd + 15, transposed into two n-tiles' B fragments
                    const half* src = &vs_[16 * kk + (lane & 15)][8 * jd + 8 * (lane >> 4)];
                    uint32_t b[4];
                    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                                 : "=r"(b[0]), "=r"(b[1]), "=r"(b[2]), "=r"(b[3])
                                 : "r"(static_cast<unsigned>(__cvta_generic_to_shared(src))));
                    mma_f16(o[jd], pa[kk], b[0], b[1]);
                    mma_f16(o[jd + 1], pa[kk], b[2], b[3]);
                }
            }
        };
        const int ntiles = maxpos / TILE + 1;
        // context tile kt's K and V rows into stage st; positions past maxpos are zeros (never read by an unmasked
        // score, but never NaN either)
        auto copy_tile = [&](int kt, int st) {
            for (int idx = tid; idx < TILE * (HD / 8); idx += THREADS) {
                const int rr = idx / (HD / 8), c = idx % (HD / 8), p = kt * TILE + rr;
                const bool ok = p <= maxpos;
                const long off =
                    ok ? (((long)table[p / block_size] * block_size + p % block_size) * kv_heads + kvh) * HD + c * 8 : 0;
                cp_async_16(&ks[st][rr][c * 8], kpool + off, ok);
                cp_async_16(&vs[st][rr][c * 8], vpool + off, ok);
            }
            cp_async_commit();
        };
        __syncthreads();  // every warp is done with the previous segment's stages
        copy_tile(0, 0);
        for (int kt = 0; kt < ntiles; ++kt) {
            const int st = kt & 1;
            if (kt + 1 < ntiles) {
                copy_tile(kt + 1, st ^ 1);  // stage st ^ 1 was read in tile kt - 1, before the barrier that ended it
                cp_async_wait<1>();
            } else {
                cp_async_wait<0>();
            }
            __syncthreads();  // tile kt has landed for every thread's copies
            // a tile past every row of the warp would change none of its sums (see the file's comment): skipped
            if (kt * TILE <= wmax) attend_tile(ks[st], vs[st], kt);
            __syncthreads();  // every warp is done with stage st before tile kt + 2 is copied into it
        }
#pragma unroll
        for (int x = 1; x <= 2; x <<= 1) {
            l0 += __shfl_xor_sync(0xffffffffu, l0, x);
            l1 += __shfl_xor_sync(0xffffffffu, l1, x);
        }
        const float i0 = 1.f / l0, i1 = 1.f / l1;
#pragma unroll
        for (int j = 0; j < HD / 8; ++j) {
            const int d = 8 * j + 2 * t4;
            if (act0)
                *reinterpret_cast<half2*>(out + ((long)(w0 + row0) * heads + h) * HD + d) =
                    __floats2half2_rn(o[j][0] * i0, o[j][1] * i0);
            if (act1)
                *reinterpret_cast<half2*>(out + ((long)(w0 + row1) * heads + h) * HD + d) =
                    __floats2half2_rn(o[j][2] * i1, o[j][3] * i1);
        }
        r = e;
    }
}

// Whether the tiles serve this head size.
inline bool head_dim_supported(int hd) { return hd == 64 || hd == 128; }

// Blocks per SM the head_dim-128 build is compiled for: 2 (193 registers, no spills) or, with
// QSPEC_ATTENTION_TILES_BLOCKS=3, 3 (168 registers, 48 bytes spilled). Read at every call; the same bits.
inline int blocks_per_sm() {
    const char* v = getenv("QSPEC_ATTENTION_TILES_BLOCKS");
    return v != nullptr && strcmp(v, "3") == 0 ? 3 : 2;
}

// Dynamic shared memory of a block: two stages of K and V tiles.
inline size_t smem_bytes(int hd) { return 2 * 2 * (size_t)TILE * (hd + 8) * sizeof(half); }

// Launches the tiles over a pass of T tokens (all_long: every token is in a long run, so the row kernels need not
// run); the caller checked head_dim_supported. 0 or the launch's error.
inline int launch(const float* q, const half* kp, const half* vp, const int32_t* token_seq, const int32_t* token_pos,
                   const int32_t* block_tables, int max_blocks, int block_size, int T, int heads, int kv_heads, int hd,
                   bool all_long, half* out, cudaStream_t st) {
    const dim3 grid((T + TILE - 1) / TILE, heads);
    auto run = [&](auto kernel, int HD, unsigned long long& allowed) {
        const size_t smem = smem_bytes(HD);
        if (const int e = allow_dynamic_smem(kernel, smem, allowed)) return e;
        kernel<<<grid, THREADS, smem, st>>>(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T,
                                            heads, kv_heads, all_long, out);
        return qspec_launch_status();
    };
    static unsigned long long allowed128, allowed128x3, allowed64;
    if (hd == 64) return run(prefill_tiles_kernel<64, 2>, 64, allowed64);
    return blocks_per_sm() == 3 ? run(prefill_tiles_kernel<128, 3>, 128, allowed128x3)
                                : run(prefill_tiles_kernel<128, 2>, 128, allowed128);
}

}  // namespace tiles
