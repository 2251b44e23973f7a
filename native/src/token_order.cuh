// The GEMMs' token orders (ABI 13, QSPEC_TOKENS_ROW / QSPEC_TOKENS_MMA in qspec_cuda.h). In MMA order each
// 128-input step of a token row is permuted into the order in which the sm_90a warpgroup kernels' MMAs read it, so
// that the GEMM needs no pass that permutes it (permute_tokens_rf, permute_tokens_direct: one launch and a round trip
// of the tokens per call). The producers of the GEMMs' inputs (the norms, the quantizers, SwiGLU) write it where the
// caller asks (qspec_tokens_order says where a GEMM reads it). Host and device share these functions: the emulation
// checks them against the permuting kernels it models (native/test/token_order_check.cu).
#pragma once
#include <cuda_fp16.h>
#include <stdint.h>
#include "qspec_cuda.h"

namespace token_order {

constexpr int STEP = 128;  // inputs a permutation spans; rows of MMA-ordered tokens are a whole number of steps

// Where input k of an int8 token row goes for the draft's weights-from-registers kernel (w4ax_wgmma.cu,
// permute_tokens_rf): in each step the 8 inputs 32t + 8kk .. + 7 go, even ones to bytes 32kk + 4t .. + 3 and odd
// ones to 32kk + 16 + 4t .. + 3.
__host__ __device__ __forceinline__ int draft_position(int k) {
    const int w = k & (STEP - 1), t = w >> 5, kk = (w >> 3) & 3, e = w & 7;
    return (k & ~(STEP - 1)) + 32 * kk + 4 * t + (e >> 1) + 16 * (e & 1);
}

// Where input k of an fp16 token row goes for the verify's tokens-in-MMA-order kernel (w4a16_wgmma.cu,
// permute_tokens_direct): in each step MMA c = 2j + q's inputs 32t + 8j + 2q, + 4 go to halves 64 (c / 4) +
// 16 (c % 4) + 2t, + 1 and inputs + 1, + 5 eight halves on.
__host__ __device__ __forceinline__ int verify_position(int k) {
    const int w = k & (STEP - 1), t = w >> 5, j = (w >> 3) & 3, e = w & 7, c = 2 * j + ((e >> 1) & 1);
    return (k & ~(STEP - 1)) + 64 * (c >> 2) + 16 * (c & 3) + 2 * t + 8 * (e & 1) + (e >> 2);
}

// Whether a producer can write a row of K inputs in `order` (0 or 1; MMA order needs whole steps).
__host__ __device__ __forceinline__ bool writable(int order, int K) {
    return order == QSPEC_TOKENS_ROW || (order == QSPEC_TOKENS_MMA && K % STEP == 0);
}

// Stores the codes of inputs k .. k + 3 of an int8 row (k a multiple of 4; input k + e in byte e of `codes`) in
// `order`. In MMA order inputs k and k + 2 land in adjacent bytes, and k + 1 and k + 3 16 bytes on.
__device__ __forceinline__ void store_codes4(int8_t* row, int k, uint32_t codes, int order) {
    if (order == QSPEC_TOKENS_ROW) {
        *reinterpret_cast<uint32_t*>(row + k) = codes;
        return;
    }
    const int p = draft_position(k);  // even: k % 8 is 0 or 4
    *reinterpret_cast<uint16_t*>(row + p) = (uint16_t)__byte_perm(codes, 0, 0x0020);
    *reinterpret_cast<uint16_t*>(row + p + 16) = (uint16_t)__byte_perm(codes, 0, 0x0031);
}

// Stores input k of an fp16 row in `order`.
__device__ __forceinline__ void store_half(half* row, int k, half v, int order) {
    row[order == QSPEC_TOKENS_ROW ? k : verify_position(k)] = v;
}

// Whether qspec_w4a16_gemm (w4a16_gemm.cu) and qspec_w4ax_gemm (w4ax_gemm.cu) read their tokens in MMA order at
// these arguments: where they would take the warpgroup kernel's build that reads them so.
bool w4a16_reads_mma_order(const void* x_f16, int ldx, int M, int N, int K, int group);
bool w4ax_reads_mma_order(int M, int N, int K, int group, int bits);

}  // namespace token_order
