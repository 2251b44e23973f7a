// The tiling both INT4 MMA kernels (W4A16 verify, W4A8/W4A4 draft) share.
//
// Weights are the MMA's A operand, tokens its B operand ("swap AB"): an m16 tile is 16 weight rows
// and an n8 tile is 8 tokens, so a decode step (M = 1..8 tokens) wastes at most 7/8 of one small
// operand instead of 15/16 of the large one, each MMA consumes 16 x k weights, and the output
// fragment of a thread holds the weight rows the thread itself loaded (its scales need no exchange).
//
// Thread (g = lane / 4, t = lane % 4) of a warp reads, per 128-input step, 16 bytes (32 inputs, one
// 128-bit load) of weight rows g and g + 8 of each of its NT row tiles, at input 32t of the step.
// The MMA's k slots are mapped to whatever input order the in-register unpacking yields (a dot
// product is invariant under a permutation of k); the token fragments are permuted to match.
// The WK warps of a block take steps warp, warp + WK, ... and are reduced in shared memory in warp
// order, without atomics: every output is summed in an order that depends on K alone, never on M
// or on the tile shape, which QSpec's exactness needs (docs/KERNELS.md).
#pragma once
#include "common.cuh"

namespace w4 {

constexpr int KSTEP = 128;  // inputs per warp step: 4 threads x 32 inputs
constexpr int WK = 8;       // warps per block, splitting K

// Row-tile geometry of a block: NT tiles of 16 rows from n_base; token tiles of 8 from m_base.
struct Tile {
    int lane, warp, g, t, n_base, m_base;
    __device__ Tile(int NT, int MT)
        : lane(threadIdx.x & 31), warp(threadIdx.x >> 5), g(lane >> 2), t(lane & 3),
          n_base(blockIdx.y * NT * 16), m_base(blockIdx.x * MT * 8) {}
    // weight row h (0: g, 1: g + 8) of row tile i, clamped into [0, N) (loads stay in bounds; the
    // outputs of clamped rows are never stored)
    __device__ int row(int i, int h, int N) const { return min(n_base + 16 * i + 8 * h + g, N - 1); }
};

// Grid: x = token blocks (fastest, so the blocks that share weight rows run together and hit L2),
// y = row blocks.
inline dim3 grid_of(int M, int N, int NT, int MT) { return dim3(ceil_div(M, MT * 8), ceil_div(N, NT * 16)); }

// Sums the WK warps' accumulators (warp order, deterministic) and stores y[m][n] for m < M, n < N.
// acc[mt][i][c]: c = 0, 1 -> row g, tokens 2t, 2t + 1; c = 2, 3 -> row g + 8, the same tokens.
template <int MT, int NT>
__device__ __forceinline__ void reduce_store(const Tile& tl, const float (&acc)[MT][NT][4], float* red,
                                             float* __restrict__ y, int ldy, int M, int N) {
    constexpr int FR = MT * NT * 4;
#pragma unroll
    for (int a = 0; a < MT; ++a)
#pragma unroll
        for (int b = 0; b < NT; ++b)
#pragma unroll
            for (int c = 0; c < 4; ++c) red[(tl.warp * FR + (a * NT + b) * 4 + c) * 32 + tl.lane] = acc[a][b][c];
    __syncthreads();
    for (int e = threadIdx.x; e < FR * 32; e += blockDim.x) {
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < WK; ++w) sum += red[w * FR * 32 + e];
        const int idx = e >> 5, ln = e & 31, c = idx & 3, i = (idx >> 2) % NT, mt = (idx >> 2) / NT;
        const int n = tl.n_base + i * 16 + (ln >> 2) + (c >= 2 ? 8 : 0);
        const int m = tl.m_base + mt * 8 + 2 * (ln & 3) + (c & 1);
        if (m < M && n < N) y[(long)m * ldy + n] = sum;
    }
}

}  // namespace w4
