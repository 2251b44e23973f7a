// INT4 -> dense fp16 weights for the W16A16 baseline (cuBLAS fp16 GEMM): run once per matrix, on
// the first FP32 pass of a model that carries only the INT4 set. Not on any hot path.
#include <algorithm>
#include "common.cuh"

namespace {

constexpr int THREADS = 256;

// One thread per packed 32-bit word: 8 consecutive inputs k0..k0+7 of row n, nibble i (bits 4i..4i+3)
// holding input k0+i (low nibble of each byte = even k). Since group is a multiple of 32 and k0 a
// multiple of 8, the 8 inputs share one scale. scale * q is exact in fp32 (11 x 4 significant bits),
// so each output is that product rounded once to fp16 (round to nearest even).
__global__ void dequantize_int4_kernel(const uint32_t* __restrict__ w_words, const half* __restrict__ w_scales,
                                       int N, int K, int group, half* __restrict__ out, int ldo, bool vector_store) {
    const int groups = (K + group - 1) / group;
    const int words_per_row = groups * group / 8;  // Kp / 8
    const int used_words = (K + 7) / 8;            // words holding at least one input < K
    const long total = (long)N * used_words;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int n = (int)(i / used_words), j = (int)(i % used_words), k0 = j * 8;
        const uint32_t w = w_words[(long)n * words_per_row + j];
        const float s = __half2float(w_scales[(long)n * groups + k0 / group]);
        half* row = out + (long)n * ldo;
        if (vector_store && k0 + 8 <= K) {
            __align__(16) half h[8];
#pragma unroll
            for (int e = 0; e < 8; ++e) h[e] = __float2half_rn(s * (float)((int)((w >> (4 * e)) & 15u) - 8));
            *reinterpret_cast<uint4*>(row + k0) = *reinterpret_cast<const uint4*>(h);
        } else {
            for (int e = 0; e < 8 && k0 + e < K; ++e)
                row[k0 + e] = __float2half_rn(s * (float)((int)((w >> (4 * e)) & 15u) - 8));
        }
    }
}

}  // namespace

QSPEC_API int qspec_dequantize_int4(const uint8_t* w_packed, const void* w_scales_f16, int N, int K, int group,
                                    void* out_f16, int ldo, qspec_stream_t stream) {
    if (group <= 0 || group % 32 != 0 || ldo < K) return QSPEC_ERR_UNSUPPORTED;
    if ((reinterpret_cast<uintptr_t>(w_packed) & 3) != 0) return QSPEC_ERR_UNSUPPORTED;  // read as 32-bit words
    if (N <= 0 || K <= 0) return 0;
    // 16-byte stores of 8 outputs when every row start is 16-byte aligned
    const bool vector_store = (reinterpret_cast<uintptr_t>(out_f16) & 15) == 0 && ldo % 8 == 0;
    const long total = (long)N * ((K + 7) / 8);
    const int blocks = (int)std::min<long>((total + THREADS - 1) / THREADS, 1L << 16);
    dequantize_int4_kernel<<<blocks, THREADS, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        reinterpret_cast<const uint32_t*>(w_packed), static_cast<const half*>(w_scales_f16), N, K, group,
        static_cast<half*>(out_f16), ldo, vector_store);
    return qspec_launch_status();
}
