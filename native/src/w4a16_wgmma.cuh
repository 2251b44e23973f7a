// The verify GEMM's kernel for many tokens on sm_90a (w4a16_wgmma.cu), as w4a16_gemm.cu reaches it.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

namespace w4::wgmma_verify {

// Whether the W4A16 GEMM of M tokens and N rows takes the warpgroup kernel: on an sm_90a build on sm_90,
// group 128 with a multiple of 8 groups per row (K rounded up to 1024), activation rows 16-byte aligned,
// where its grid is large enough (grid_of in w4a16_wgmma.cu). QSPEC_WGMMA_VERIFY=0 never, =all at every
// M and N (tests). It gives the bits of the other W4A16 kernels.
bool use(const half* x, int ldx, int M, int N, int K, int group);

// Whether a call that use() sends here reads its tokens in MMA order without a pass that permutes them
// (token_order.cuh): where the DIRECT build runs (direct_of) and K is a whole number of steps.
bool takes_mma_order(int M, int N, int K);

// y[M, N] (+)= x W^T, as qspec_w4a16_gemm defines it, x in MMA order where `ordered` (only where
// takes_mma_order). Returns the launch status, or NO_TENSOR_MAP (tensor_map.cuh) when a tensor map cannot be
// encoded: then the caller takes another kernel (none where `ordered`: then the call fails).
int launch(const half* x, int ldx, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K,
           bool accumulate, bool ordered, cudaStream_t st);

}  // namespace w4::wgmma_verify
