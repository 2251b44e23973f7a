// The draft GEMM's kernel for many tokens on sm_90a (w4ax_wgmma.cu), as w4ax_gemm.cu reaches it.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

namespace w4::wgmma_draft {

// Whether the draft GEMM of M tokens and N rows takes the warpgroup kernel: on sm_90, group 128 with a
// multiple of 8 groups per row (K rounded up to 1024: the scales' tensor maps need 16-byte rows), where
// its grid is large enough (grid_of in w4ax_wgmma.cu). QSPEC_WGMMA_DRAFT=0 never, =all at every M and
// N (tests). The caller keeps the s4 path (sm_80/86/89) off it.
bool use(int M, int N, int K, int group);

// Whether a call that use() sends here reads its tokens in MMA order without a pass that permutes them
// (token_order.cuh): where the weights-from-registers build runs (rf_of) and K is a whole number of steps.
bool takes_mma_order(int M, int N, int K, int group);

// y[M, N] (+)= dequant(xq) dequant(W)^T, as qspec_w4ax_gemm defines it; xq rows Kp = K rounded up to
// the group apart, in MMA order where `ordered` (only where takes_mma_order). Returns the launch status, or
// NO_TENSOR_MAP (tensor_map.cuh) when a tensor map cannot be encoded: then the caller takes another kernel
// (none where `ordered`: then the call fails).
int launch(const int8_t* xq, const float* xs, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N,
           int K, int group, bool accumulate, bool ordered, cudaStream_t st);

}  // namespace w4::wgmma_draft

namespace w4 {
// Whether this library's binary for the current device has the sm_90a warpgroup kernels (a build for plain
// sm_90 compiles them empty): the draft's and the verify's (w4a16_wgmma.cu).
bool wgmma_built_for_device();
}  // namespace w4
