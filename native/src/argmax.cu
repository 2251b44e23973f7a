// Greedy sampling: out[m] = argmax over a logit row, ties to the lowest index (NaN never wins; a
// row of NaN gives 0).
//
// A row is shared by a team of blocks (team.cuh: a cluster of 8 on sm_90, one block elsewhere): each
// block finds the best of its chunk, and rank 0 takes the best of the blocks' results. The largest
// (value, lowest index) pair is the same whichever way the candidates are grouped, so every team
// size gives the same token.
#include "team.cuh"

namespace {

constexpr int THREADS = 1024;

__global__ void __launch_bounds__(THREADS) argmax_kernel(const float* __restrict__ logits, int V,
                                                         int32_t* __restrict__ out) {
    __shared__ float sv[THREADS / 32];
    __shared__ int si[THREADS / 32];
    const Team tm(V);
    const int row = blockIdx.x / tm.size;
    const float* r = logits + (long)row * V;
    float v = -INFINITY;
    int idx = 0x7fffffff;
    for (int k = tm.lo + threadIdx.x; k < tm.hi; k += THREADS) better(v, idx, r[k], k);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float v2 = __shfl_xor_sync(0xffffffffu, v, o);
        const int i2 = __shfl_xor_sync(0xffffffffu, idx, o);
        better(v, idx, v2, i2);
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sv[warp] = v; si[warp] = idx; }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < THREADS / 32; ++w) better(v, idx, sv[w], si[w]);
        sv[0] = v;
        si[0] = idx;
    }
    tm.sync();
    if (tm.rank == 0 && threadIdx.x == 0) {
        for (int b = 1; b < tm.size; ++b) better(v, idx, *tm.peer(&sv[0], b), *tm.peer(&si[0], b));
        out[row] = idx == 0x7fffffff ? 0 : idx;
    }
    tm.sync();  // the blocks' results stay in their shared memory until rank 0 has read them
}

}  // namespace

QSPEC_API int qspec_argmax(const float* logits, int M, int V, int32_t* out, qspec_stream_t stream) {
    if (M <= 0 || V <= 0) return 0;
    cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
    static signed char refused[64];  // per device: 1 once a cluster launch was refused
    const int size = team_size();
    if (size > 1 && (long)M * size <= 0x7fffffffL) {
        const int e = launch_in_clusters(argmax_kernel, dim3(M * size), dim3(THREADS), dim3(size), 0, st, refused,
                                         logits, V, out);
        if (e != CLUSTERS_UNAVAILABLE) return e;
    }
    argmax_kernel<<<M, THREADS, 0, st>>>(logits, V, out);
    return qspec_launch_status();
}
