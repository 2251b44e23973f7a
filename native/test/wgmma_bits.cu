// Experiment for the open question of docs/KERNELS.md ("Limitations"): does a chain of fp16 warpgroup
// MMAs (wgmma, fp32 accumulation, A from registers) give the same fp32 bits as the chain of mma.sync
// m16n8k16 that every W4A16 kernel runs (step_mma: the raw INT4 codes q in [-8, 7] against fp16
// activations, 8 MMAs per 128-input step, from zero)? Only if it does can a wgmma W4A16 kernel keep
// QSpec exact (a verify pass must give the bits of one-token decoding). Not part of the library or the
// test suite: one warpgroup, random data, the chains side by side, a count of differing outputs.
//
// Chains compared with mma.sync (weights = A, tokens = B, the library's orientation), 64 rows x 64 tokens:
//   w1: wgmma m64n64k16, A = weights from registers (the mma.sync fragment), B = tokens in shared memory;
//   w2: wgmma m64n64k16, A = tokens from registers, B = weights in shared memory (operands swapped: a
//       kernel whose producer unpacks the weights into shared memory in any k order it likes);
//   w3: as w1, with the 16 inputs of each MMA given to its k slots in reverse order;
//   m3: mma.sync with the reversed slots (does the order inside one MMA matter to mma.sync itself?).
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
constexpr int R = 64;  // weight rows = tokens = 64
constexpr int CHAINS = 5;  // mma.sync, w1, w2, w3, m3

#if defined(QSPEC_WGMMA)
// d[64 x 64] (f32) = A[64 x 16] (f16, registers) * B[64 x 16]^T (f16, shared memory, K-major) +
// (accumulate ? d : 0). Thread `lane` of warp w holds d[4j + 2i + e] = D[16w + lane / 4 + 8i][8j + 2(lane % 4) + e].
__device__ __forceinline__ void wgmma_f16_n64(float (&d)[32], const uint32_t (&a)[4], uint64_t b_desc, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(accumulate));
}
#endif

__device__ __forceinline__ uint32_t pack(half lo, half hi) {
    return (uint32_t)__half_as_ushort(lo) | ((uint32_t)__half_as_ushort(hi) << 16);
}

// The input that k slot kk of chunk c takes: natural, or reversed inside the chunk.
__device__ __forceinline__ int input_of(int c, int kk, bool reversed) { return 16 * c + (reversed ? 15 - kk : kk); }

// The m16n8k16 A fragment of rows r, r + 8 of M ([.][K]) for chunk c (thread t of its quad).
__device__ __forceinline__ void a_fragment(const half* M, int r, int c, int t, bool rev, uint32_t (&a)[4]) {
    const half* m0 = M + r * K;
    const half* m1 = m0 + 8 * K;
    a[0] = pack(m0[input_of(c, 2 * t, rev)], m0[input_of(c, 2 * t + 1, rev)]);
    a[1] = pack(m1[input_of(c, 2 * t, rev)], m1[input_of(c, 2 * t + 1, rev)]);
    a[2] = pack(m0[input_of(c, 2 * t + 8, rev)], m0[input_of(c, 2 * t + 9, rev)]);
    a[3] = pack(m1[input_of(c, 2 * t + 8, rev)], m1[input_of(c, 2 * t + 9, rev)]);
}

// Writes M ([64][K]) K-major into two 128-byte-swizzled tiles of 64 inputs, slot order as given.
__device__ void to_shared(const half* M, uint8_t (*tiles)[R * 128], bool rev) {
    for (int e = threadIdx.x; e < R * K; e += blockDim.x) {
        const int n = e / K, p = e % K, byte = 2 * (p % 64);  // position p = 16c + kk
        *reinterpret_cast<half*>(tiles[p / 64] + n * 128 + (((byte >> 4) ^ (n & 7)) << 4) + (byte & 15)) =
            M[n * K + input_of(p / 16, p % 16, rev)];
    }
}

// W: [64][K] codes, X: [64][K] activations. y[chain][row * 64 + token].
__global__ void __launch_bounds__(128) chains(const half* W, const half* X, float* y) {
#if defined(QSPEC_WGMMA)
    __shared__ __align__(1024) uint8_t xs[K / 64][R * 128], xr[K / 64][R * 128], ws[K / 64][R * 128];
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    to_shared(X, xs, false);
    to_shared(X, xr, true);
    to_shared(W, ws, false);
    wgmma::fence_shared_for_async();
    __syncthreads();
    const int r = 16 * warp + g;
    // mma.sync chains: rows r, r + 8; 8 token tiles
    for (int rev = 0; rev < 2; ++rev)
        for (int nt = 0; nt < 8; ++nt) {
            float d[4] = {0.f, 0.f, 0.f, 0.f};
            for (int c = 0; c < CHUNKS; ++c) {
                uint32_t a[4], b[4];
                a_fragment(W, r, c, t, rev, a);
                a_fragment(X + 8 * nt * K, g, c, t, rev, b);  // b[0], b[2]: token 8nt + g, slots 2t.., 2t+8..
                mma_f16(d, a, b[0], b[2]);
            }
            for (int i = 0; i < 4; ++i)
                y[(rev ? 4 : 0) * R * R + (r + 8 * (i >> 1)) * R + 8 * nt + 2 * t + (i & 1)] = d[i];
        }
    // wgmma chains
    for (int chain = 1; chain <= 3; ++chain) {
        const bool rev = chain == 3;
        uint8_t (*b)[R * 128] = chain == 2 ? ws : rev ? xr : xs;
        const half* A = chain == 2 ? X : W;
        float d[32];
        for (int i = 0; i < 32; ++i) d[i] = 0.f;
        uint32_t a[CHUNKS][4];
        for (int c = 0; c < CHUNKS; ++c) a_fragment(A, r, c, t, rev, a[c]);
        wgmma::fence();
        for (int c = 0; c < CHUNKS; ++c) wgmma_f16_n64(d, a[c], wgmma::sw128_desc(b[c / 4]) + 2 * (c % 4), c);
        wgmma::commit();
        wgmma::wait<0>();
        for (int j = 0; j < 8; ++j)
            for (int i = 0; i < 2; ++i)
                for (int e = 0; e < 2; ++e) {
                    const int m = 16 * warp + g + 8 * i, n = 8 * j + 2 * t + e;  // D[m][n]
                    const int row = chain == 2 ? n : m, token = chain == 2 ? m : n;
                    y[chain * R * R + row * R + token] = d[4 * j + 2 * i + e];
                }
    }
#endif
}

}  // namespace

int main() {
    std::mt19937 rng(11);
    const char* names[CHAINS] = {"mma.sync", "w1 (A = weights, registers)", "w2 (A = tokens, B = weights)",
                                 "w3 (w1, slots reversed)", "m3 (mma.sync, slots reversed)"};
    long outputs = 0, differ[CHAINS] = {}, signed_zero[CHAINS] = {};
    for (int trial = 0; trial < 500; ++trial) {
        // weights: raw INT4 codes; activations: fp16 over 2^-12 .. 2^12, both signs (alignment shifts and
        // cancellation inside the MMA's sums)
        std::vector<half> W(R * K), X((R + 8) * K);  // 8 rows of slack: b fragments read rows g + 8
        for (auto& v : W) v = __float2half((float)((int)(rng() % 16) - 8));
        for (auto& v : X) {
            const float m = std::uniform_real_distribution<float>(-2.f, 2.f)(rng);
            v = __float2half(std::ldexp(m, (int)(rng() % 25) - 12));
        }
        Dev<half> dW(W), dX(X);
        Dev<float> y(CHAINS * R * R);
        chains<<<1, 128>>>(dW.p, dX.p, y.p);
        CK(cudaGetLastError());
        CK(cudaDeviceSynchronize());
        const auto h = y.down();
        for (int i = 0; i < R * R; ++i) {
            ++outputs;
            for (int c = 1; c < CHAINS; ++c) {
                const float ref = h[i], v = h[c * R * R + i];
                if (std::memcmp(&ref, &v, 4) == 0) continue;
                if (ref == 0.f && v == 0.f) {
                    ++signed_zero[c];
                    continue;
                }
                if (++differ[c] <= 3)
                    printf("%s: trial %d output %d: mma.sync %.9g, this chain %.9g\n", names[c], trial, i, (double)ref,
                           (double)v);
            }
        }
    }
    for (int c = 1; c < CHAINS; ++c)
        printf("%-32s %s: %ld of %ld outputs differ from mma.sync in their bits (%ld more only in the sign of a zero)\n",
               names[c], differ[c] == 0 ? "SAME BITS" : "DIFFERENT BITS", differ[c], outputs, signed_zero[c]);
    return differ[1] == 0 && differ[2] == 0 ? 0 : 1;
}
