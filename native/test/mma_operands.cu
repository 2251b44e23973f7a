// Experiment for the decode tiles' next step (docs/KERNELS.md, Next 3): does mma.sync give the same fp32 bits when the
// two operands trade places, for general fp16 data? A one-token decode tile with K as the A operand (positions as the
// rows, the token's heads as the columns) keeps the 16-row tile's bits only if S^T = K Q^T equals S = Q K^T bit for bit,
// and O^T = V^T P^T + C^T equals O = P V + C. wgmma_bits.cu answered it on the H200 for the W4A16 data (A the raw INT4
// codes); here both operands are general fp16 and the accumulator is random.
//
// Per trial a warp draws X (16 x KD), Y (8 x KD), C (16 x 8) and Z (8 x KD) from a counter hash, computes
//   D1 = X Y^T + C                          (A = X, B = Y^T: the 16-row tile's orientation)
//   D2 = [Y; Z] X[0..7]^T + C^T (padded)    (A = Y with 8 more rows, B = X's first 8 rows: operands swapped)
//   D3 = D1 with the KD inputs given to the MMA's k slots in reverse order
// and counts the outputs (h, p < 8) where D2[p][h] or D3[h][p] differs from D1[h][p] in its bits (a sign of zero apart).
// Shapes: m16n8k16 (S = Q K^T) and m16n8k8 (O = P V), four data kinds.
//
// Build and run on an sm_80+ GPU, from the repository root:
//   nvcc -O2 -std=c++17 -Inative/include -Inative/src -gencode=arch=compute_90a,code=sm_90a \
//     native/test/mma_operands.cu -o /tmp/mma_operands && /tmp/mma_operands
#include "common.cuh"
#include "common.h"

namespace {

__device__ __forceinline__ uint32_t hash32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}
__device__ __forceinline__ float unit(uint32_t h) { return (h >> 8) * (1.0f / 16777216.0f); }  // [0, 1)

// Data kinds: 0 scores (normal-ish q, k; C as a running sum), 1 wide exponents (±[1, 2) * 2^e, e in [-14, 14]),
// 2 softmax products (p in [0, 1], v normal-ish), 3 near cancellation (Y's row a copy of X's row 0 with signs flipped
// in half the slots, plus small noise).
__device__ float draw(int kind, int which, uint32_t trial, int i, int j) {
    const uint32_t h = hash32(trial * 2654435761U ^ hash32((uint32_t)(which * 65536 + i * 256 + j) + 0x9e3779b9U * kind));
    const uint32_t h2 = hash32(h + 0x632be5abU);
    const float n = (unit(h) + unit(h2) + unit(hash32(h2)) - 1.5f) * 2.0f;  // roughly normal, sd ~1
    switch (kind) {
        case 0: return which == 2 ? 8.f * n : n;
        case 1: {
            const int e = (int)(h2 % 29) - 14;
            return ldexpf((h & 1 ? -1.f : 1.f) * (1.f + unit(h)), which == 2 ? e + 6 : e);
        }
        case 2: return which == 0 ? unit(h) : which == 2 ? 4.f * n : n;
        default: return which == 2 ? n : n * (1.f + 0.001f * unit(h2));
    }
}

__device__ __forceinline__ uint32_t pack(half a, half b) {
    const half2 v = __halves2half2(a, b);
    return *reinterpret_cast<const uint32_t*>(&v);
}

template <int KD>
__device__ __forceinline__ void mma(float (&d)[4], const half (&A)[16][KD], const half (&B)[8][KD], bool reversed,
                                    int g, int t) {
    auto a = [&](int r, int k) { return A[r][reversed ? KD - 1 - k : k]; };
    auto b = [&](int n, int k) { return B[n][reversed ? KD - 1 - k : k]; };
    if constexpr (KD == 16) {
        const uint32_t af[4] = {pack(a(g, 2 * t), a(g, 2 * t + 1)), pack(a(g + 8, 2 * t), a(g + 8, 2 * t + 1)),
                                pack(a(g, 2 * t + 8), a(g, 2 * t + 9)), pack(a(g + 8, 2 * t + 8), a(g + 8, 2 * t + 9))};
        mma_f16(d, af, pack(b(g, 2 * t), b(g, 2 * t + 1)), pack(b(g, 2 * t + 8), b(g, 2 * t + 9)));
    } else {
        mma_f16_k8(d, pack(a(g, 2 * t), a(g, 2 * t + 1)), pack(a(g + 8, 2 * t), a(g + 8, 2 * t + 1)),
                   pack(b(g, 2 * t), b(g, 2 * t + 1)));
    }
}

template <int KD>
__global__ void operands_kernel(int kind, uint32_t trials, unsigned long long* counts) {
    __shared__ half X[4][16][KD], Y[4][8][KD], A2[4][16][KD];
    __shared__ float C[4][16][8];
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    unsigned long long swapped = 0, reversed = 0, zeros = 0;
    for (uint32_t trial = blockIdx.x * 4 + w; trial < trials; trial += gridDim.x * 4) {
        for (int e = lane; e < 16 * KD; e += 32) {
            const int i = e / KD, k = e % KD;
            X[w][i][k] = __float2half_rn(draw(kind, 0, trial, i, k));
            if (i < 8) {
                float y = draw(kind, 1, trial, i, k);
                if (kind == 3) y = (k & 1 ? -1.f : 1.f) * __half2float(X[w][0][k]) * (1.f + 0.01f * y);
                Y[w][i][k] = __float2half_rn(y);
            }
        }
        for (int e = lane; e < 128; e += 32) C[w][e / 8][e % 8] = draw(kind, 2, trial, e / 8, e % 8);
        __syncwarp();
        for (int e = lane; e < 16 * KD; e += 32) {
            const int i = e / KD, k = e % KD;
            A2[w][i][k] = i < 8 ? Y[w][i][k] : __float2half_rn(draw(kind, 3, trial, i, k));
        }
        __syncwarp();
        float d1[4] = {C[w][g][2 * t], C[w][g][2 * t + 1], C[w][g + 8][2 * t], C[w][g + 8][2 * t + 1]};
        float d3[4] = {d1[0], d1[1], d1[2], d1[3]};
        // D2's accumulator: C^T in its rows 0..7 (the ones compared); rows 8..15 take C's rows 8..15, any values will do
        float d2[4] = {C[w][2 * t][g], C[w][2 * t + 1][g], C[w][8 + 2 * t][g], C[w][9 + 2 * t][g]};
        const half(&B2)[8][KD] = reinterpret_cast<const half(&)[8][KD]>(X[w][0][0]);  // X's rows 0..7
        mma<KD>(d1, X[w], Y[w], false, g, t);
        mma<KD>(d3, X[w], Y[w], true, g, t);
        mma<KD>(d2, A2[w], B2, false, g, t);
        // D1[h][p] (h = g, p = 2t, 2t + 1) against D2[p][h], which another lane holds: D2's rows 0..7 go through
        // shared memory, in C's place (C has been read)
        __syncwarp();
        float* s = &C[w][0][0];
        s[g * 8 + 2 * t] = d2[0];
        s[g * 8 + 2 * t + 1] = d2[1];
        __syncwarp();
        for (int j = 0; j < 2; ++j) {
            const int h = g, p = 2 * t + j;
            const float v1 = d1[j], v2 = s[p * 8 + h], v3 = d3[j];
            const uint32_t b1 = __float_as_uint(v1), b2 = __float_as_uint(v2), b3 = __float_as_uint(v3);
            if (b1 != b2) {
                if (v1 == v2) ++zeros;
                else ++swapped;
            }
            if (b1 != b3 && v1 != v3) ++reversed;
        }
        __syncwarp();
    }
    atomicAdd(&counts[0], swapped);
    atomicAdd(&counts[1], reversed);
    atomicAdd(&counts[2], zeros);
}

template <int KD>
bool run(int kind, uint32_t trials) {
    Dev<unsigned long long> counts(3);
    CK(cudaMemset(counts.p, 0, 3 * sizeof(unsigned long long)));
    operands_kernel<KD><<<1024, 128>>>(kind, trials, counts.p);
    CK(cudaGetLastError());
    const auto c = counts.down();
    static const char* kinds[] = {"scores", "wide exponents", "softmax products", "near cancellation"};
    const unsigned long long outputs = 64ull * trials;
    printf("m16n8k%-2d %-18s %llu outputs: swapped operands %s (%llu differ, %llu only in a zero's sign), "
           "reversed k slots %s (%llu differ)\n",
           KD, kinds[kind], outputs, c[0] == 0 ? "SAME BITS" : "DIFFER", c[0], c[2], c[1] == 0 ? "SAME BITS" : "DIFFER",
           c[1]);
    return c[0] == 0;
}

}  // namespace

int main() {
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    printf("device: %s (sm_%d%d)\n", p.name, p.major, p.minor);
    const uint32_t trials = 1u << 20;
    bool same = true;
    for (int kind = 0; kind < 4; ++kind) {
        same &= run<16>(kind, trials);
        same &= run<8>(kind, trials);
    }
    printf("%s\n", same ? "operands may trade places: the same bits in every trial"
                        : "operands may NOT trade places: some outputs differ");
    return same ? 0 : 1;
}
