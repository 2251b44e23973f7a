// Greedy sampling: out[m] = argmax over a logit row, ties to the lowest index (NaN never wins; a
// row of NaN gives 0).
//
// A row is shared by a team of blocks (team.cuh: a cluster of 8 on sm_90, one block elsewhere):
// team_best, the sampler's search for its greedy token and its softmax shift. The largest
// (value, lowest index) pair is the same whichever way the candidates are grouped, so every team
// size gives the same token.
#include "team.cuh"

namespace {

constexpr int THREADS = 1024;

__global__ void __launch_bounds__(THREADS) argmax_kernel(const float* __restrict__ logits, int V,
                                                         int32_t* __restrict__ out) {
    __shared__ TeamBestScratch<THREADS> scratch;
    const Team tm(V);
    const int row = blockIdx.x / tm.size;
    float v;
    int idx;
    team_best<THREADS>(tm, logits + (long)row * V, scratch, v, idx);
    if (tm.rank == 0 && threadIdx.x == 0) out[row] = idx == 0x7fffffff ? 0 : idx;
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
