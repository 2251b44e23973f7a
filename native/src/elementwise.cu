// Element-wise kernels of a Llama block: embedding gather, SwiGLU, fp32->fp16, residual add.
#include <algorithm>
#include "common.cuh"
#include "token_order.cuh"

namespace {

constexpr int THREADS = 256;

// Grid-stride loops: enough blocks to fill the GPU, capped so the grid size stays an int.
inline int blocks_for(long n) { return (int)std::min<long>((n + THREADS - 1) / THREADS, 1L << 16); }

__global__ void embedding_kernel(const int32_t* __restrict__ tokens, const half* __restrict__ table,
                                 float* __restrict__ x, int T, int dim) {
    const long n = (long)T * dim;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        const long t = i / dim, d = i % dim;
        x[i] = __half2float(table[(long)tokens[t] * dim + d]);
    }
}

// order: of the output rows (token_order.cuh).
__global__ void swiglu_kernel(const float* __restrict__ gate, const float* __restrict__ up, int ld,
                              half* __restrict__ out, int H, long n, int order) {
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        const long m = i / H;
        const int k = (int)(i % H);
        const long at = m * ld + k;  // gate and up rows are ld apart (the fused gate|up GEMM output)
        token_order::store_half(out + m * H, k, swiglu_f16(gate[at], up[at]), order);
    }
}

__global__ void f32_to_f16_kernel(const float* __restrict__ x, half* __restrict__ y, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        y[i] = __float2half(x[i]);
}

__global__ void add_kernel(float* __restrict__ x, const float* __restrict__ y, long n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        x[i] += y[i];
}

}  // namespace

QSPEC_API int qspec_embedding(const int32_t* tokens, const void* table_f16, float* x, int T, int dim,
                              qspec_stream_t stream) {
    const long n = (long)T * dim;
    if (n <= 0) return 0;
    embedding_kernel<<<blocks_for(n), THREADS, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        tokens, static_cast<const half*>(table_f16), x, T, dim);
    return qspec_launch_status();
}

QSPEC_API int qspec_swiglu_f16(const float* gate, const float* up, int ld, void* out_f16, int M, int H, int out_order,
                               qspec_stream_t stream) {
    const long n = (long)M * H;
    if (n <= 0) return 0;
    if (ld < H || !token_order::writable(out_order, H)) return QSPEC_ERR_UNSUPPORTED;
    swiglu_kernel<<<blocks_for(n), THREADS, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        gate, up, ld, static_cast<half*>(out_f16), H, n, out_order);
    return qspec_launch_status();
}

QSPEC_API int qspec_f32_to_f16(const float* x, void* y_f16, long n, qspec_stream_t stream) {
    if (n <= 0) return 0;
    f32_to_f16_kernel<<<blocks_for(n), THREADS, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        x, static_cast<half*>(y_f16), n);
    return qspec_launch_status();
}

QSPEC_API int qspec_add_inplace(float* x, const float* y, long n, qspec_stream_t stream) {
    if (n <= 0) return 0;
    add_kernel<<<blocks_for(n), THREADS, 0, reinterpret_cast<cudaStream_t>(stream)>>>(x, y, n);
    return qspec_launch_status();
}
