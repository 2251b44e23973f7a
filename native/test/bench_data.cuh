// Device-side data of the benchmark programs (qspec_bench.cu, chain_bench.cu): pseudo-random fills that are never
// zeros, and the streaming read that sets the HBM roofline.
#pragma once
#include <cuda_fp16.h>
#include <cstddef>
#include <cstdint>

// The pseudo-random 32 bits of element i under a seed (a multiplicative hash, mixed twice).
__device__ __forceinline__ uint32_t bench_hash(size_t i, uint32_t seed) {
    uint32_t h = (uint32_t)i * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    return h ^ (h >> 13);
}

__global__ void fill_bytes(uint8_t* p, size_t n, uint32_t seed) {  // pseudo-random, non-zero data
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const uint32_t h = bench_hash(i, seed);
        p[i] = (uint8_t)h;
    }
}
__global__ void fill_f32(float* p, size_t n, float lo, float hi, uint32_t seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const uint32_t h = bench_hash(i, seed);
        p[i] = lo + (hi - lo) * (h & 0xffffff) / 16777216.f;
    }
}
__global__ void fill_f16(__half* p, size_t n, float lo, float hi, uint32_t seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const uint32_t h = bench_hash(i, seed);
        p[i] = __float2half(lo + (hi - lo) * (h & 0xffffff) / 16777216.f);
    }
}

// Streams n16 16-byte words once (non-caching loads, four in flight per thread): the HBM read rate,
// the ceiling of a GEMV that reads its weights once. The XOR keeps the loads; the sink is never written.
__global__ void read_words(const uint4* __restrict__ p, size_t n16, unsigned* sink) {
    unsigned acc = 0;
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    for (; i + 3 * stride < n16; i += 4 * stride) {
        uint4 v[4];
#pragma unroll
        for (int j = 0; j < 4; ++j) v[j] = __ldcs(p + i + j * stride);
#pragma unroll
        for (int j = 0; j < 4; ++j) acc ^= v[j].x ^ v[j].y ^ v[j].z ^ v[j].w;
    }
    for (; i < n16; i += stride) {
        const uint4 v = __ldcs(p + i);
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (acc == 0x9e3779b9u) *sink = acc;
}
