// Experiment for the open question of docs/KERNELS.md ("Limitations"): does a chain of fp16 warpgroup
// MMAs (wgmma m64n8k16, fp32 accumulation, A from registers) give the same fp32 bits as the chain of
// mma.sync m16n8k16 that every W4A16 kernel runs (step_mma: the raw INT4 codes q in [-8, 7] against
// fp16 activations, 8 MMAs per 128-input step, from zero)? Only if it does can a wgmma W4A16 kernel keep
// QSpec exact (a verify pass must give the bits of one-token decoding). Not part of the library or the
// test suite: one warpgroup, random data, both chains side by side, a count of differing outputs.
//
// Build and run on an sm_90 GPU, from the repository root:
//   nvcc -O2 -std=c++17 -Inative/include -Inative/src -gencode=arch=compute_90a,code=sm_90a \
//     native/test/wgmma_bits.cu -o /tmp/wgmma_bits && /tmp/wgmma_bits
#include <cstring>
#include "common.cuh"
#include "common.h"
#include "wgmma.cuh"

namespace {

constexpr int CHUNKS = 8;  // k16 MMAs per chain: one 128-input step of the W4A16 kernels
constexpr int K = 16 * CHUNKS;

#if defined(QSPEC_WGMMA)
// d[64 x 8] (f32) = A[64 x 16] (f16, registers: the mma.sync A fragment of each warp's 16 rows) *
// B[8 x 16]^T (f16, shared memory, K-major) + (accumulate ? d : 0).
__device__ __forceinline__ void wgmma_f16_n8(float (&d)[4], const uint32_t (&a)[4], uint64_t b_desc, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %9, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16 {%0, %1, %2, %3}, {%4, %5, %6, %7}, %8, p, 1, 1, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(accumulate));
}
#endif

__device__ __forceinline__ uint32_t pack(half lo, half hi) {
    return (uint32_t)__half_as_ushort(lo) | ((uint32_t)__half_as_ushort(hi) << 16);
}

// A: [64][K], B: [8][K] row-major fp16. Outputs [64][8] fp32 of both chains.
__global__ void __launch_bounds__(128) chains(const half* A, const half* B, float* y_mma, float* y_wgmma) {
#if defined(QSPEC_WGMMA)
    __shared__ __align__(1024) uint8_t bt[CHUNKS / 4][1024];  // B as 128-byte swizzled rows: 4 chunks per tile
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    for (int e = tid; e < 8 * K; e += 128) {  // element (row n, input k) of B
        const int n = e / K, k = e % K, byte = 2 * (k % 64);
        uint8_t* tile = bt[k / 64];
        *reinterpret_cast<half*>(tile + n * 128 + (((byte >> 4) ^ (n & 7)) << 4) + (byte & 15)) = B[e];
    }
    wgmma::fence_shared_for_async();
    __syncthreads();
    const int r = 16 * warp + g;
    float dm[4] = {0.f, 0.f, 0.f, 0.f}, dw[4] = {0.f, 0.f, 0.f, 0.f};
    uint32_t a[CHUNKS][4];
    for (int c = 0; c < CHUNKS; ++c) {
        const half* a0 = A + r * K + 16 * c + 2 * t;
        const half* a1 = a0 + 8 * K;
        a[c][0] = pack(a0[0], a0[1]);
        a[c][1] = pack(a1[0], a1[1]);
        a[c][2] = pack(a0[8], a0[9]);
        a[c][3] = pack(a1[8], a1[9]);
        const half* b = B + g * K + 16 * c + 2 * t;
        mma_f16(dm, a[c], pack(b[0], b[1]), pack(b[8], b[9]));
    }
    wgmma::fence();
    for (int c = 0; c < CHUNKS; ++c)
        wgmma_f16_n8(dw, a[c], wgmma::sw128_desc(bt[c / 4]) + 2 * (c % 4), c);
    wgmma::commit();
    wgmma::wait<0>();
    for (int i = 0; i < 4; ++i) {
        const int row = r + 8 * (i >> 1), col = 2 * t + (i & 1);
        y_mma[row * 8 + col] = dm[i];
        y_wgmma[row * 8 + col] = dw[i];
    }
#endif
}

}  // namespace

int main() {
    std::mt19937 rng(11);
    long outputs = 0, differ = 0, signed_zero = 0;
    for (int trial = 0; trial < 2000; ++trial) {
        // weights: raw INT4 codes; activations: fp16 over 2^-12 .. 2^12, both signs (alignment shifts and
        // cancellation inside the MMA's sums)
        std::vector<half> A(64 * K), B(8 * K);
        for (auto& v : A) v = __float2half((float)((int)(rng() % 16) - 8));
        for (auto& v : B) {
            const float m = std::uniform_real_distribution<float>(-2.f, 2.f)(rng);
            v = __float2half(std::ldexp(m, (int)(rng() % 25) - 12));
        }
        Dev<half> dA(A), dB(B);
        Dev<float> ym(64 * 8), yw(64 * 8);
        chains<<<1, 128>>>(dA.p, dB.p, ym.p, yw.p);
        CK(cudaGetLastError());
        CK(cudaDeviceSynchronize());
        const auto hm = ym.down(), hw = yw.down();
        for (int i = 0; i < 64 * 8; ++i) {
            ++outputs;
            if (std::memcmp(&hm[i], &hw[i], 4) == 0) continue;
            if (hm[i] == 0.f && hw[i] == 0.f) {
                ++signed_zero;
                continue;
            }
            if (++differ <= 5)
                printf("trial %d output %d: mma.sync %.9g, wgmma %.9g\n", trial, i, (double)hm[i], (double)hw[i]);
        }
    }
    printf("%s: %ld of %ld outputs differ in their bits (%ld more only in the sign of a zero)\n",
           differ == 0 ? "SAME BITS" : "DIFFERENT BITS", differ, outputs, signed_zero);
    return differ == 0 ? 0 : 1;
}
