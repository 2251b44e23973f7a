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

// Blocks per row: a cluster of 8 on sm_90 (one SM took 539 us for a top-p draw over a 128256-token
// row and 30 us for its argmax on the H200), one block before sm_90; QSPEC_SAMPLE_CLUSTER = 1, 2, 4
// or 8 forces a size. Any size gives the same tokens.
inline int team_size() {
    static const int forced = env_int("QSPEC_SAMPLE_CLUSTER", 0);
    if (forced == 1 || forced == 2 || forced == 4 || forced == 8) return forced;
    return device_major() >= 9 ? 8 : 1;
}

}  // namespace
