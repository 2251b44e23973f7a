// qspec_tokens_order (ABI 13): the order in which a GEMM of given sizes reads its tokens without a permuting pass.
#include "common.cuh"
#include "token_order.cuh"

QSPEC_API int qspec_tokens_order(int bits, int M, int N, int K, int group) {
    const bool mma = bits == 16 ? token_order::w4a16_reads_mma_order(nullptr, K, M, N, K, group)
                                : token_order::w4ax_reads_mma_order(M, N, K, group, bits);
    return mma ? QSPEC_TOKENS_MMA : QSPEC_TOKENS_ROW;
}
