// Teams: the blocks that share one logit row in the token-choice kernels (argmax.cu, sample.cu).
#pragma once
#include <cooperative_groups.h>
#include "common.cuh"

namespace {

// (v, i) becomes (v2, i2) when v2 is larger, or equal with a lower index: the order of the host's
// argmax (ties to the lowest index). NaN never wins.
__device__ __forceinline__ void better(float& v, int& i, float v2, int i2) {
    if (v2 > v || (v2 == v && i2 < i)) { v = v2; i = i2; }
}

// The blocks that share one row: a thread-block cluster on sm_90 (a launch without clusters is a
// cluster of one), one block elsewhere. Block `rank` owns chunk [lo, hi) of the row; chunks follow
// the ranks in index order and are multiples of 32 long.
struct Team {
    int rank, size, lo, hi;
    __device__ explicit Team(int V) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
        const cooperative_groups::cluster_group c = cooperative_groups::this_cluster();
        rank = (int)c.block_rank();
        size = (int)c.num_blocks();
#else
        rank = 0;
        size = 1;
#endif
        const int chunk = (V + 32 * size - 1) / (32 * size) * 32;
        lo = min(V, rank * chunk);
        hi = min(V, lo + chunk);
    }
    // A barrier over every thread of the team; what a block wrote before it (shared or global memory)
    // is visible to the team after it.
    __device__ void sync() const {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
        cooperative_groups::this_cluster().sync();
#else
        __syncthreads();
#endif
    }
    // Block r's copy of this block's shared variable p.
    template <class T>
    __device__ T* peer(T* p, int r) const {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
        return cooperative_groups::this_cluster().map_shared_rank(p, r);
#else
        (void)r;
        return p;
#endif
    }
};

// Shared memory of team_best for blocks of THREADS threads.
template <int THREADS>
struct TeamBestScratch {
    float value[THREADS / 32];  // each warp's best
    int index[THREADS / 32];
    float team_value;           // this block's best, read by the other blocks
    int team_index;
};

// The row's largest value and its lowest index, for every thread of the team: each block scans its
// chunk of `row` (blocks of THREADS threads), then the warps', then the blocks' results are combined.
// The pair is the same whatever the grouping. best_index = 0x7fffffff when no element wins (all NaN).
template <int THREADS>
__device__ void team_best(const Team& tm, const float* __restrict__ row, TeamBestScratch<THREADS>& s, float& best,
                          int& best_index) {
    best = -INFINITY;
    best_index = 0x7fffffff;
    for (int i = tm.lo + threadIdx.x; i < tm.hi; i += THREADS) better(best, best_index, row[i], i);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float v2 = __shfl_xor_sync(0xffffffffu, best, o);
        const int i2 = __shfl_xor_sync(0xffffffffu, best_index, o);
        better(best, best_index, v2, i2);
    }
    if ((threadIdx.x & 31) == 0) {
        s.value[threadIdx.x >> 5] = best;
        s.index[threadIdx.x >> 5] = best_index;
    }
    __syncthreads();
    best = s.value[0];
    best_index = s.index[0];
    for (int k = 1; k < THREADS / 32; ++k) better(best, best_index, s.value[k], s.index[k]);
    if (threadIdx.x == 0) {
        s.team_value = best;
        s.team_index = best_index;
    }
    tm.sync();
    for (int r = 0; r < tm.size; ++r) better(best, best_index, *tm.peer(&s.team_value, r), *tm.peer(&s.team_index, r));
    tm.sync();  // every block has read the others' best before any returns
}

// Blocks per row: a cluster of 8 on sm_90 (one SM took 539 us for a top-p draw over a 128256-token
// row and 30 us for its argmax on the H200), one block before sm_90; QSPEC_SAMPLE_CLUSTER = 1, 2, 4
// or 8 forces a size. Any size gives the same tokens.
inline int team_size() {
    static const int forced = env_int("QSPEC_SAMPLE_CLUSTER", 0);
    if (forced == 1 || forced == 2 || forced == 4 || forced == 8) return forced;
    return device_major() >= 9 ? 8 : 1;
}

}  // namespace
