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
#include <cooperative_groups.h>
#include <type_traits>
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

// Walks a warp's steps first, first + WK, ... (< nsteps) over a ring of three buffers whose index is a
// compile-time constant: body(std::integral_constant<int, b>{}, s) computes step s from buffer b and
// refills buffer (b + 2) % 3 with step s + 2 WK. (A ring rotated by register moves waits at every move
// for the load it has just issued, which leaves one step in flight instead of two.)
template <class Body>
__device__ __forceinline__ void walk_ring3(int first, int nsteps, Body&& body) {
    for (int s = first; s < nsteps; s += 3 * WK) {
        body(std::integral_constant<int, 0>{}, s);
        if (s + WK >= nsteps) break;
        body(std::integral_constant<int, 1>{}, s + WK);
        if (s + 2 * WK >= nsteps) break;
        body(std::integral_constant<int, 2>{}, s + 2 * WK);
    }
}

// Grid: x = token blocks (fastest, so the blocks that share weight rows run together and hit L2),
// y = row blocks.
inline dim3 grid_of(int M, int N, int NT, int MT) { return dim3(ceil_div(M, MT * 8), ceil_div(N, NT * 16)); }

// Every output is stored once: y = sum, or (accumulate) y = y + sum — the residual add of the wo and
// down projections, in the same fp32 addition a separate add kernel would do.
__device__ __forceinline__ void store_output(float* y, float sum, bool accumulate) { *y = accumulate ? *y + sum : sum; }

// Sums the WK warps' accumulators (warp order, deterministic) and stores y[m][n] for m < M, n < N.
// acc[mt][i][c]: c = 0, 1 -> row g, tokens 2t, 2t + 1; c = 2, 3 -> row g + 8, the same tokens.
template <int MT, int NT>
__device__ __forceinline__ void reduce_store(const Tile& tl, const float (&acc)[MT][NT][4], float* red,
                                             float* __restrict__ y, int ldy, int M, int N, bool accumulate) {
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
        if (m < M && n < N) store_output(y + (long)m * ldy + n, sum, accumulate);
    }
}

// The tiled kernels (large M) give each CTA a tile of BN = 128 weight rows and some tokens over the
// whole K, and stage each 128-input step of weights and activations once in shared memory (a cp.async
// ring of TSTAGES steps) for all its warps. The weight tile of a step: row r's 64 bytes as 4 units of
// 16 bytes (unit u = inputs 32u .. 32u+31, the 16 bytes thread t = u reads in the warp-split kernels).
constexpr int BN = 128, TSTAGES = 3, WUNITS = BN * 4;

// Copies step s's weight tile (rows n0 .. n0+127, clamped into [0, N)) into wsm; units past the
// padded row hold q = 0 (nibbles 8), as load_step gives.
__device__ __forceinline__ void stage_weights(uint4* wsm, const uint8_t* __restrict__ wp, int n0, int N, int row_bytes,
                                              int Kp, int s) {
    for (int e = threadIdx.x; e < WUNITS; e += blockDim.x) {
        const int r = e >> 2, u = e & 3;
        if (s * KSTEP + 32 * u < Kp)
            cp_async_16(wsm + e, wp + (long)min(n0 + r, N - 1) * row_bytes + (long)s * (KSTEP / 2) + 16 * u, true);
        else
            wsm[e] = make_uint4(0x88888888u, 0x88888888u, 0x88888888u, 0x88888888u);
    }
}

// A warp of a tiled CTA: WN warps along the rows (NT row tiles of 16 each), the other WK / WN along
// the tokens (MT token tiles of 8 each); grid x = token tiles of BM, y = row tiles of BN.
template <int WN, int NT, int MT>
struct TiledWarp {
    static constexpr int BM = (WK / WN) * MT * 8;
    int lane, warp, g, t, n0, m0, wr, wm;  // wr, wm: the warp's first row and token in the CTA tile
    __device__ TiledWarp()
        : lane(threadIdx.x & 31), warp(threadIdx.x >> 5), g(lane >> 2), t(lane & 3), n0(blockIdx.y * BN),
          m0(blockIdx.x * BM), wr((warp % WN) * NT * 16), wm((warp / WN) * MT * 8) {}
    // weight row h (0: g, 1: g + 8) of the warp's row tile i, clamped into [0, N)
    __device__ int row(int i, int h, int N) const { return min(n0 + wr + 16 * i + 8 * h + g, N - 1); }
    // Stores acc[a][b][c] (c = 0, 1: row g of row tile b, tokens 2t, 2t + 1 of token tile a; c = 2, 3:
    // row g + 8) to y[m][n] for m < M, n < N: each output once, as store_output does.
    __device__ void store(const float (&acc)[MT][NT][4], float* __restrict__ y, int ldy, int M, int N,
                          bool accumulate) const {
#pragma unroll
        for (int a = 0; a < MT; ++a)
#pragma unroll
            for (int b = 0; b < NT; ++b)
#pragma unroll
                for (int c = 0; c < 4; ++c) {
                    const int n = n0 + wr + 16 * b + g + (c >= 2 ? 8 : 0), m = m0 + wm + 8 * a + 2 * t + (c & 1);
                    if (m < M && n < N) store_output(y + (long)m * ldy + n, acc[a][b][c], accumulate);
                }
    }
};

// Steps in slice order: slice z holds steps z, z + WK, ... (the steps warp z of a warp-split kernel
// takes); the slices follow one another. -1 after the last step.
__device__ __forceinline__ int next_step_in_slice_order(int s, int nsteps) {
    if (s + WK < nsteps) return s + WK;
    const int z = s % WK + 1;
    return z < WK && z < nsteps ? z : -1;
}

// The cluster kernels (sm_90) split K across the WK CTAs of a cluster instead: CTA z (grid z) takes
// the steps warp z of a block would take, for CROWS rows (its WK warps, one 16-row tile each) and
// 8*MT tokens (grid x), so all its warps share one activation tile per step.
constexpr int CROWS = WK * 16;

// Launches a cluster kernel: grid z = the WK slices of one cluster. CLUSTERS_UNAVAILABLE (common.cuh)
// where the device refuses clusters of WK CTAs: the caller takes the warp-split kernel.
template <class... Params, class... Args>
inline int launch_cluster_kernel(void (*kernel)(Params...), dim3 grid, cudaStream_t st, Args... args) {
    static signed char refused[64];  // per device: 1 once a cluster launch was refused
    return launch_in_clusters(kernel, grid, dim3(WK * 32), dim3(1, 1, WK), 0, st, refused, args...);
}

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
// Sums the cluster's slices through distributed shared memory, in slice order (0 + P0 + P1 + ...,
// the order of reduce_store), and stores y. red: this CTA's shared memory, >= WK*MT*4*32 floats, no
// longer in use by the caller. acc[mt][0][c] as in reduce_store, for this warp's rows.
template <int MT>
__device__ __forceinline__ void cluster_reduce_store(const float (&acc)[MT][1][4], float* red, float* __restrict__ y,
                                                     int ldy, int M, int N, bool accumulate) {
    constexpr int FR = MT * 4;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, slice = blockIdx.z;
#pragma unroll
    for (int a = 0; a < MT; ++a)
#pragma unroll
        for (int c = 0; c < 4; ++c) red[(warp * FR + a * 4 + c) * 32 + lane] = acc[a][0][c];
    cooperative_groups::cluster_group cluster = cooperative_groups::this_cluster();
    cluster.sync();
    // CTA z sums and stores a 1/WK share of the tile's outputs
    for (int e = slice * WK * 32 + threadIdx.x; e < WK * FR * 32; e += WK * WK * 32) {
        float sum = 0.f;
#pragma unroll
        for (int z = 0; z < WK; ++z) sum += cluster.map_shared_rank(red, z)[e];
        const int w = e / (FR * 32), idx = (e >> 5) % FR, ln = e & 31, c = idx & 3, mt = idx >> 2;
        const int n = blockIdx.y * CROWS + w * 16 + (ln >> 2) + (c >= 2 ? 8 : 0);
        const int m = blockIdx.x * MT * 8 + mt * 8 + 2 * (ln & 3) + (c & 1);
        if (m < M && n < N) store_output(y + (long)m * ldy + n, sum, accumulate);
    }
    cluster.sync();  // keep this CTA's partial sums alive until the cluster has read them
}
#endif

}  // namespace w4
