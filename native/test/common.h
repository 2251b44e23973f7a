// Helpers shared by the test and bench programs: checked CUDA calls, seeded random data, INT4 packing.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>
#include "qspec_cuda.h"

#define CK(x)                                                                                  \
    do {                                                                                       \
        cudaError_t e_ = (x);                                                                  \
        if (e_ != cudaSuccess) {                                                               \
            fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__, __LINE__, #x); \
            exit(2);                                                                           \
        }                                                                                      \
    } while (0)

#define CQ(x)                                                                                  \
    do {                                                                                       \
        int r_ = (x);                                                                          \
        if (r_ != 0) {                                                                         \
            fprintf(stderr, "qspec call failed (%d) at %s:%d: %s\n", r_, __FILE__, __LINE__, #x); \
            exit(2);                                                                           \
        }                                                                                      \
    } while (0)

template <typename T>
struct Dev {  // device buffer
    T* p = nullptr;
    size_t n = 0;
    explicit Dev(size_t n_) : n(n_) { CK(cudaMalloc(&p, (n ? n : 1) * sizeof(T))); }
    Dev(const std::vector<T>& h) : Dev(h.size()) { up(h); }
    ~Dev() { cudaFree(p); }
    Dev(const Dev&) = delete;  // one owner of the device memory (returned by value only where the copy is elided)
    Dev& operator=(const Dev&) = delete;
    void up(const std::vector<T>& h) { CK(cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice)); }
    std::vector<T> down() const {
        std::vector<T> h(n);
        CK(cudaDeviceSynchronize());
        CK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
        return h;
    }
};

// Sets an environment variable for a scope (the kernels read some switches at every call) and puts back what was
// there before, set or not.
struct ScopedEnv {
    std::string name, old;
    bool had;
    ScopedEnv(const char* n, const char* value) : name(n) {
        const char* v = getenv(n);
        had = v != nullptr;
        if (had) old = v;
        set(value);
    }
    void set(const char* value) {  // nullptr: unset
        if (value != nullptr) setenv(name.c_str(), value, 1);
        else unsetenv(name.c_str());
    }
    ~ScopedEnv() {
        if (had) setenv(name.c_str(), old.c_str(), 1);
        else unsetenv(name.c_str());
    }
};

static std::mt19937_64 rng(20261123);
static float urand(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }
static int irand(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

static std::vector<__half> rand_f16(size_t n, float lo, float hi) {
    std::vector<__half> v(n);
    for (auto& e : v) e = __float2half(urand(lo, hi));
    return v;
}

// Random INT4 matrix in the qspec layout: random nibbles, 0x8 (q = 0) in the padding, fp16 scales.
struct Int4W {
    int N, K, group, groups, Kp;
    std::vector<uint8_t> packed;
    std::vector<__half> scales;
    Int4W(int N_, int K_, int g_) : N(N_), K(K_), group(g_) {
        groups = (K + group - 1) / group;
        Kp = groups * group;
        packed.assign((size_t)N * Kp / 2, 0x88);
        for (int n = 0; n < N; ++n)
            for (int k = 0; k < K; ++k) {
                uint8_t& b = packed[(size_t)n * Kp / 2 + k / 2];
                const int u = irand(0, 15);
                b = (k & 1) ? (uint8_t)((b & 0x0f) | (u << 4)) : (uint8_t)((b & 0xf0) | u);
            }
        scales = rand_f16((size_t)N * groups, 0.005f, 0.05f);
    }
    int q(int n, int k) const {
        const uint8_t b = packed[(size_t)n * Kp / 2 + k / 2];
        return ((k & 1) ? (b >> 4) : (b & 15)) - 8;
    }
    double w(int n, int k) const { return (double)__half2float(scales[(size_t)n * groups + k / group]) * q(n, k); }
};
