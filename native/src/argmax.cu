// Greedy sampling: out[m] = argmax over a logit row, ties to the lowest index.
#include "common.cuh"

namespace {

__device__ __forceinline__ void better(float& v, int& i, float v2, int i2) {
    if (v2 > v || (v2 == v && i2 < i)) { v = v2; i = i2; }
}

__global__ void argmax_kernel(const float* __restrict__ logits, int V, int32_t* __restrict__ out) {
    __shared__ float sv[32];
    __shared__ int si[32];
    const float* row = logits + (long)blockIdx.x * V;
    float v = -INFINITY;
    int idx = 0x7fffffff;
    for (int k = threadIdx.x; k < V; k += blockDim.x) better(v, idx, row[k], k);
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
        for (int w = 1; w < (int)(blockDim.x >> 5); ++w) better(v, idx, sv[w], si[w]);
        out[blockIdx.x] = idx == 0x7fffffff ? 0 : idx;  // all-NaN row: 0
    }
}

}  // namespace

QSPEC_API int qspec_argmax(const float* logits, int M, int V, int32_t* out, qspec_stream_t stream) {
    if (M <= 0 || V <= 0) return 0;
    argmax_kernel<<<M, 1024, 0, reinterpret_cast<cudaStream_t>(stream)>>>(logits, V, out);
    return qspec_launch_status();
}
