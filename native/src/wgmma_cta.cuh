// What the two warpgroup GEMM kernels share (w4ax_wgmma.cu, the draft; w4a16_wgmma.cu, the verify): a CTA of
// one feeding warpgroup (threads 0-127) and two multiplying warpgroups (128-383) that each hold a 64-row x
// BN-token fragment in wgmma's layout. Here: the turns the multiplying warpgroups take, where a fragment's
// outputs go, and the K split's rank-ordered sum over a cluster.
#pragma once
#include <cooperative_groups.h>
#include "w4_tiles.cuh"  // store_output

namespace w4::wgmma_cta {

// Stores output i of this multiplying thread's fragment (wgmma_s8's layout: weight row n0 + r0 + 8 ((i >> 1) & 1),
// token m0 + 8 (i >> 2) + 2t + (i & 1), r0 = 64 (warpgroup - 1) + 16 warp + g) once, if inside M x N.
__device__ __forceinline__ void store_fragment(int i, float v, int n0, int m0, float* __restrict__ y, int ldy, int M,
                                               int N, bool accumulate) {
    const int ct = threadIdx.x - 128, lane = ct & 31;
    const int n = n0 + 64 * (ct >> 7) + 16 * ((ct >> 5) & 3) + (lane >> 2) + 8 * ((i >> 1) & 1);
    const int m = m0 + 8 * (i >> 2) + 2 * (lane & 3) + (i & 1);
    if (n < N && m < M) store_output(y + (long)m * ldy + n, v, accumulate);
}

// Ping-pong: multiplying warpgroup me (0 or 1) waits for its turn before it issues step i's MMAs, and passes the
// turn once they are issued, so that one warpgroup folds while the other's MMAs run. Named barriers 2 and 3.
__device__ __forceinline__ void wait_turn(bool pingpong, int me, int i) {
    if (pingpong && (me == 1 || i > 0)) asm volatile("bar.sync %0, 256;" ::"r"(2 + me) : "memory");
}
__device__ __forceinline__ void pass_turn(bool pingpong, int me, int i, int nsteps) {
    if (pingpong && !(me == 1 && i == nsteps - 1)) asm volatile("bar.arrive %0, 256;" ::"r"(3 - me) : "memory");
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
// The K split across a cluster of Z CTAs (grid z): each CTA's multiplying threads have left their COUNT sums of
// each of its SPC slices in part ([SPC][COUNT][256], this CTA's shared memory); CTA z adds outputs z, z + Z, ...
// over the ranks in order and, within a rank, its slices in order (0 + P0 + P1 + ...: deterministic, and the slice
// order of the W4A16 kernels) and stores them with store(i, sum) (multiplying: whether this thread is in a
// multiplying warpgroup). Every thread of every CTA of the cluster calls it.
template <int COUNT, int SPC = 1, class Store>
__device__ __forceinline__ void cluster_sum_store(float* part, int Z, bool multiplying, Store&& store) {
    cooperative_groups::cluster_group cluster = cooperative_groups::this_cluster();
    cluster.sync();
    if (multiplying) {
        const int ct = threadIdx.x - 128;
        for (int i = blockIdx.z; i < COUNT; i += Z) {
            float sum = 0.f;
            for (int r = 0; r < Z; ++r) {
                const float* rank = cluster.map_shared_rank(part, r);
#pragma unroll
                for (int u = 0; u < SPC; ++u) sum += rank[(u * COUNT + i) * 256 + ct];
            }
            store(i, sum);
        }
    }
    cluster.sync();  // keep this CTA's sums until the cluster has read them
}
#endif

}  // namespace w4::wgmma_cta
