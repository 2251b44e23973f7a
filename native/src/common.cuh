// Shared helpers of the kernel library: launch/error plumbing, tensor-core MMA wrappers and the
// INT4 unpacking tricks used by both GEMMs.
#pragma once
#include <string.h>
#include <initializer_list>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdlib.h>
#include "qspec_cuda.h"

#define QSPEC_API extern "C" __attribute__((visibility("default")))

// Every entry point returns the launch error (asynchronous execution errors surface later).
static inline int qspec_launch_status() { return (int)cudaGetLastError(); }

static inline int ceil_div(long a, long b) { return (int)((a + b - 1) / b); }

// Butterfly sum and max over the warp's lanes; LOW > 1 stops at lane stride LOW, so each lane gets the result over the
// lanes that share its low bits (lane % LOW).
template <int LOW = 1>
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o >= LOW; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <int LOW = 1>
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o >= LOW; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over a block of up to 1024 threads; every thread gets the result. `red` holds 32 floats.
__device__ __forceinline__ float block_sum(float v, float* red) {
    v = warp_sum(v);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();  // red may still be read by a previous call
    if (lane == 0) red[warp] = v;
    __syncthreads();
    const int nw = (blockDim.x + 31) >> 5;
    v = lane < nw ? red[lane] : 0.f;
    return warp_sum(v);
}

// Streaming 128-bit load of weights: read once per GEMM, keep them out of L1.
__device__ __forceinline__ uint4 ld_stream_u4(const void* p) {
    uint4 r;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w) : "l"(p));
    return r;
}

__device__ __forceinline__ uint32_t ld_stream_u32(const void* p) {
    uint32_t r;
    asm volatile("ld.global.nc.L1::no_allocate.u32 %0, [%1];" : "=r"(r) : "l"(p));
    return r;
}

// fp16 (a, b), round to nearest, as the 32-bit word of an MMA fragment (a in the low half).
__device__ __forceinline__ uint32_t pack_half2(float a, float b) {
    const half2 h = __floats2half2_rn(a, b);
    return *reinterpret_cast<const uint32_t*>(&h);
}

// D = A(16x8 f16) * B(8x8 f16) + D, fp32 accumulators.
__device__ __forceinline__ void mma_f16_k8(float* d, uint32_t a0, uint32_t a1, uint32_t b) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(b));
}

// D = A(16x16 f16) * B(16x8 f16) + D, fp32 accumulators.
__device__ __forceinline__ void mma_f16(float* d, const uint32_t* a, uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// D = A(16x32 s8) * B(32x8 s8) + D, int32 accumulators.
__device__ __forceinline__ void mma_s8(int* d, const uint32_t* a, uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// D = A(16x64 s4) * B(64x8 s4) + D, int32 accumulators (INT4 tensor cores: sm_80/86/89).
__device__ __forceinline__ void mma_s4(int* d, const uint32_t* a, uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k64.row.col.s32.s4.s4.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Zeroes MMA accumulator fragments v[A][B][4] (token tiles x row tiles x the 4 values of a thread).
template <class T, int A, int B>
__device__ __forceinline__ void zero_fragments(T (&v)[A][B][4]) {
#pragma unroll
    for (int a = 0; a < A; ++a)
#pragma unroll
        for (int b = 0; b < B; ++b)
#pragma unroll
            for (int c = 0; c < 4; ++c) v[a][b][c] = T(0);
}

// A block of fragments v[m0 .. m0 + A - 1][i0 .. i0 + B - 1] of a larger array, copied out (take_block) and back
// (put_block): register renames once unrolled, so that a kernel can run a step on part of its tiles at a time.
template <class T, int A, int B, int MA, int MB>
__device__ __forceinline__ void take_block(const T (&v)[MA][MB][4], int m0, int i0, T (&blk)[A][B][4]) {
#pragma unroll
    for (int a = 0; a < A; ++a)
#pragma unroll
        for (int b = 0; b < B; ++b)
#pragma unroll
            for (int c = 0; c < 4; ++c) blk[a][b][c] = v[m0 + a][i0 + b][c];
}
template <class T, int A, int B, int MA, int MB>
__device__ __forceinline__ void put_block(const T (&blk)[A][B][4], int m0, int i0, T (&v)[MA][MB][4]) {
#pragma unroll
    for (int a = 0; a < A; ++a)
#pragma unroll
        for (int b = 0; b < B; ++b)
#pragma unroll
            for (int c = 0; c < 4; ++c) v[m0 + a][i0 + b][c] = blk[a][b][c];
}

__device__ __forceinline__ uint32_t lop3_and_or(uint32_t a, uint32_t b, uint32_t c) {
    uint32_t r;  // (a & b) | c in one LOP3
    asm("lop3.b32 %0, %1, %2, %3, 0xea;" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
}

// 8 nibbles (k = 0..7 of one 32-bit word, nibble i at bits 4i) -> 4 half2 of q = u - 8, in the
// pair order (0,4) (1,5) (2,6) (3,7) that the magic-number trick yields without shuffles:
// 0x6400 | u is the fp16 1024 + u, and 0x6400 | (u << 4) is 1024 + 16u.
__device__ __forceinline__ void int4_to_half2x4(uint32_t w, half2* out) {
    const uint32_t lo_mask = 0x000f000fu, hi_mask = 0x00f000f0u, ex = 0x64006400u;
    const uint32_t sub = 0x64086408u;  // half2(1032, 1032)
    const uint32_t mul = 0x2c002c00u;  // half2(1/16, 1/16)
    const uint32_t add = 0xd480d480u;  // half2(-72, -72)
    uint32_t w2 = w >> 8;
    uint32_t a = lop3_and_or(w, lo_mask, ex), b = lop3_and_or(w, hi_mask, ex);
    uint32_t c = lop3_and_or(w2, lo_mask, ex), d = lop3_and_or(w2, hi_mask, ex);
    out[0] = __hsub2(*reinterpret_cast<half2*>(&a), *reinterpret_cast<const half2*>(&sub));
    out[1] = __hfma2(*reinterpret_cast<half2*>(&b), *reinterpret_cast<const half2*>(&mul),
                     *reinterpret_cast<const half2*>(&add));
    out[2] = __hsub2(*reinterpret_cast<half2*>(&c), *reinterpret_cast<const half2*>(&sub));
    out[3] = __hfma2(*reinterpret_cast<half2*>(&d), *reinterpret_cast<const half2*>(&mul),
                     *reinterpret_cast<const half2*>(&add));
}

// 8 nibbles -> two words of 4 signed int8 each: lo = q(k=0,2,4,6), hi = q(k=1,3,5,7).
// Per byte u in [0,15]: (u + 0x78) ^ 0x80 = u - 8 as int8, with no carry between bytes.
__device__ __forceinline__ void int4_to_s8x8(uint32_t w, uint32_t& lo, uint32_t& hi) {
    lo = ((w & 0x0f0f0f0fu) + 0x78787878u) ^ 0x80808080u;
    hi = (((w >> 4) & 0x0f0f0f0fu) + 0x78787878u) ^ 0x80808080u;
}

// SwiGLU of one element, rounded to fp16 as the A16 GEMM input (and the draft quantizer's input). Each operation
// rounds on its own (nvcc may otherwise fuse expf's last product into the + 1 in one kernel and not in another), so
// every kernel that computes it (qspec_swiglu_f16, the draft's quantizer, W4A16's SwiGLU epilogue) gets its bits.
__device__ __forceinline__ half swiglu_f16(float g, float u) {
    return __float2half(__fmul_rn(__fdiv_rn(g, __fadd_rn(1.f, expf(-g))), u));
}

// RoPE of the pair (a, b) by the angle whose cosine and sine are (c, s). The products are rounded apart and never
// contracted into an FMA (nvcc contracted one of the two expressions and not the other), so every kernel that
// rotates (rope_write_kv, the fused attention) gives the same bits, rounded as RotaryEmbedding rounds on the CPU.
__device__ __forceinline__ float2 rope_pair(float a, float b, float c, float s) {
    return make_float2(__fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s)), __fadd_rn(__fmul_rn(a, s), __fmul_rn(b, c)));
}

// Where qspec_rope_write_kv writes a token's q|k|v row: for the epilogue of the q|k|v GEMV (ABI 12), which rotates and
// stores each output where its own threads hold it (rope_kv_store).
struct RopeKv {
    float* q_out;  // [T, heads * head_dim]
    half* k_pool;  // the layer's paged cache, [blocks, block_size, kv_heads, head_dim]
    half* v_pool;
    const int32_t* token_seq;
    const int32_t* token_pos;
    const int32_t* block_tables;
    const float* inv_freq;
    int max_blocks, block_size, heads, kv_heads, head_dim;
};

// A token's position and its row of the layer's cache (the element offset of its slot), as qspec_rope_write_kv finds
// them: loaded once per token by the threads that store its outputs, ahead of the sums they wait for.
struct RopeToken {
    int pos;
    long slot;
};
__device__ __forceinline__ RopeToken rope_token(const RopeKv& r, int m) {
    const int pos = r.token_pos[m];
    const int blk = r.block_tables[(long)r.token_seq[m] * r.max_blocks + pos / r.block_size];
    return {pos, ((long)blk * r.block_size + pos % r.block_size) * r.kv_heads * r.head_dim};
}

// Output n of token m (at `tok`) of the q|k|v rows (interleaved pairs, rope_style 0), `own` its fp32 value and `pair`
// that of row n ^ 1: stores it as qspec_rope_write_kv does, with the same arithmetic (one sincosf of pos * inv_freq[i],
// rope_pair of the pair in row order), so the same bits.
__device__ __forceinline__ void rope_kv_store(const RopeKv& r, RopeToken tok, int m, int n, float own, float pair) {
    const int hd = r.head_dim, qd = r.heads * hd, kd = r.kv_heads * hd;
    if (n >= qd + kd) {
        r.v_pool[tok.slot + n - qd - kd] = __float2half(own);
        return;
    }
    const int d = n % hd;
    float s, c;
    sincosf((float)tok.pos * r.inv_freq[d / 2], &s, &c);
    const bool odd = (d & 1) != 0;
    const float2 v = odd ? rope_pair(pair, own, c, s) : rope_pair(own, pair, c, s);
    if (n < qd) r.q_out[(long)m * qd + n] = odd ? v.y : v.x;
    else r.k_pool[tok.slot + n - qd] = __float2half(odd ? v.y : v.x);
}

// cp.async: global -> shared copies that need no registers and complete in order of commit groups.
// valid == false zero-fills the destination without reading global memory (src must still be a
// mapped address). .ca keeps the line in L1: activations are re-read by the SM's other warps.
__device__ __forceinline__ void cp_async_16(void* dst, const void* src, bool valid) {
    const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 16, %2;" ::"r"(s), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_8(void* dst, const void* src, bool valid) {
    const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;" ::"r"(s), "l"(src), "r"(valid ? 8 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;"); }
// waits until at most N of this thread's most recent commit groups are still in flight
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N)); }

// sm_90 bulk copies (TMA, one-dimensional) into shared memory, completed on an mbarrier.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
__device__ __forceinline__ unsigned smem_addr(const void* p) { return static_cast<unsigned>(__cvta_generic_to_shared(p)); }
__device__ __forceinline__ void mbar_init(uint64_t* bar, unsigned count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_addr(bar)), "r"(count));
}
// makes initialised barriers visible to the bulk-copy (async) proxy
__device__ __forceinline__ void fence_barrier_init() { asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory"); }
__device__ __forceinline__ void mbar_arrive_expect_tx(uint64_t* bar, unsigned bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_addr(bar)), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint64_t* bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(smem_addr(bar)) : "memory");
}
// waits until the barrier's phase with this parity has completed
__device__ __forceinline__ void mbar_wait(uint64_t* bar, unsigned parity) {
    asm volatile(
        "{\n"
        ".reg .pred done;\n"
        "wait_%=:\n"
        "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
        "@!done bra wait_%=;\n"
        "}\n" ::"r"(smem_addr(bar)),
        "r"(parity)
        : "memory");
}
// bytes (a multiple of 16, both addresses 16-byte aligned) from global to shared, counted on bar
__device__ __forceinline__ void bulk_copy_g2s(void* dst, const void* src, unsigned bytes, uint64_t* bar) {
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                     smem_addr(dst)),
                 "l"(src), "r"(bytes), "r"(smem_addr(bar))
                 : "memory");
}
#endif

// Programmatic dependent launch (sm_90): waits until the kernels this grid depends on have completed
// and their memory is visible (at once when it was launched without the attribute, and before sm_90).
__device__ __forceinline__ void grid_dependency_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// Programmatic dependent launch (sm_90): lets a kernel launched after this one with the attribute
// (launch_dependent) start before this one ends; it waits (grid_dependency_wait) before it reads what
// this kernel writes. Called at the start of the kernels that precede the decode GEMMs, whose weight
// fetches can then overlap them. A no-op where there is no such kernel and before sm_90.
__device__ __forceinline__ void allow_dependent_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}

// Lets `kernel` use `bytes` of dynamic shared memory (opt-in above 48 KB), once per device: the
// attribute is per device, and setting it on every launch would cost host time on each GEMM call.
template <class Kernel>
inline int allow_dynamic_smem(Kernel kernel, size_t bytes, unsigned long long& devices_done) {
    if (bytes <= 48 * 1024) return 0;
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e != cudaSuccess) return (int)e;
    const unsigned long long bit = dev < 64 ? 1ull << dev : 0;
    if (bit != 0 && (__atomic_load_n(&devices_done, __ATOMIC_ACQUIRE) & bit)) return 0;
    e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (e != cudaSuccess) return (int)e;
    __atomic_fetch_or(&devices_done, bit, __ATOMIC_RELEASE);
    return 0;
}

// Compute capability major of the current device (cached per device; -1 when it cannot be asked).
inline int device_major() {
    static int major_of[64] = {0};  // 0 = not asked yet
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) {
        (void)cudaGetLastError();
        return -1;
    }
    if (major_of[dev] == 0) {
        int major = -1;
        if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) {
            (void)cudaGetLastError();
            major = -1;
        }
        major_of[dev] = major;
    }
    return major_of[dev];
}

// Multiprocessors of the current device (cached per device; 1 when it cannot be asked).
inline int sm_count() {
    static int sms_of[64] = {0};  // 0 = not asked yet
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) {
        (void)cudaGetLastError();
        return 1;
    }
    if (sms_of[dev] == 0) {
        int sms = 1;
        if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) {
            (void)cudaGetLastError();
            sms = 1;
        }
        sms_of[dev] = sms;
    }
    return sms_of[dev];
}

// Launches a kernel that calls grid_dependency_wait() before it reads anything an earlier kernel of the
// stream writes (and writes nothing before). With QSPEC_PDL=1 (every decode GEMM) or QSPEC_PDL=bulk
// (the bulk-copy GEMM only) it launches on sm_90 with programmatic dependent launch, so that its CTAs
// start while the kernel before drains. Off by default: it saves 0.25-0.35 us per GEMM that follows a
// GEMM, but decode at batch 8 got 6-7 % slower with it (probably GEMM CTAs that wait early holding
// SM slots the norms and attention before them need; docs/KERNELS.md).
template <class... Params, class... Args>
inline int launch_dependent(void (*kernel)(Params...), dim3 grid, int threads, size_t smem, cudaStream_t st, bool bulk,
                            Args... args) {
    static const int mode = [] {  // 0: off, 1: bulk-copy kernels, 2: every decode GEMM
        const char* v = getenv("QSPEC_PDL");
        if (v == nullptr) return 0;
        return strcmp(v, "bulk") == 0 ? 1 : atoi(v) != 0 ? 2 : 0;
    }();
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = dim3(threads);
    cfg.dynamicSmemBytes = smem;
    cfg.stream = st;
    cfg.attrs = attr;
    cfg.numAttrs = (mode == 2 || (mode == 1 && bulk)) && device_major() >= 9 ? 1 : 0;
    return (int)cudaLaunchKernelEx(&cfg, kernel, args...);
}

// Returned by launch_in_clusters when the device cannot run the cluster: the caller takes a launch without
// clusters.
constexpr int CLUSTERS_UNAVAILABLE = -1;

// Launches `kernel` on `grid` in thread-block clusters of `cluster` blocks (a launch attribute rather
// than __cluster_dims__, which the sm_80/86/89 builds of the library would reject). A device that
// refuses such a cluster (a MIG slice, say) is remembered, per call site's `refused`, and gets
// CLUSTERS_UNAVAILABLE from then on, without another attempt.
template <class... Params, class... Args>
inline int launch_in_clusters(void (*kernel)(Params...), dim3 grid, dim3 block, dim3 cluster, size_t smem,
                              cudaStream_t st, signed char (&refused)[64], Args... args) {
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) {
        (void)cudaGetLastError();
        return CLUSTERS_UNAVAILABLE;
    }
    if (refused[dev]) return CLUSTERS_UNAVAILABLE;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = cluster.x;
    attr[0].val.clusterDim.y = cluster.y;
    attr[0].val.clusterDim.z = cluster.z;
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = st;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
    const cudaError_t e = cudaLaunchKernelEx(&cfg, kernel, args...);
    if (e == cudaErrorInvalidClusterSize || e == cudaErrorNotSupported) {
        (void)cudaGetLastError();
        refused[dev] = 1;
        return CLUSTERS_UNAVAILABLE;
    }
    return (int)e;
}

// An integer tuning switch from the environment, or `unset` when the variable is absent. Callers
// read it once, into a static.
inline int env_int(const char* name, int unset) {
    const char* v = getenv(name);
    return v == nullptr ? unset : atoi(v);
}

// Which of `words` the variable `name` holds: 1 for the first, 2 for the next, ...; 0 where it is unset or another.
inline int env_word(const char* name, std::initializer_list<const char*> words) {
    const char* v = getenv(name);
    int i = 0;
    for (const char* w : words) {
        ++i;
        if (v != nullptr && strcmp(v, w) == 0) return i;
    }
    return 0;
}

// Smallest M at which sm_90 GEMMs split K across the CTAs of a thread-block cluster instead of the
// warps of one block: 9, or QSPEC_CLUSTER_GEMM_MIN_M (e.g. 1 = always, a huge value = never).
inline int cluster_gemm_min_m() {
    static const int m = env_int("QSPEC_CLUSTER_GEMM_MIN_M", 9);
    return m;
}

// Whether an INT4 GEMM takes its CTA-tiled large-M kernel (w4_tiles.cuh), whose CTAs each cover 128
// rows x bm tokens over the whole K: from M = 64 where its tiles fill at least half the GPU (with
// fewer CTAs the kernels that split K across warps or CTAs stream faster; docs/KERNELS.md).
// QSPEC_TILED_GEMM_MIN_M replaces the rule: the tiled kernel from that M, whatever the grid (1 =
// always, a huge value = never). The W4A16 kernels all give the same bits, so this only moves time.
inline bool use_tiled_gemm(int M, int N, int bm) {
    static const int forced_min_m = env_int("QSPEC_TILED_GEMM_MIN_M", -1);
    if (forced_min_m >= 0) return M >= forced_min_m;
    return M >= 64 && 2L * ceil_div(M, bm) * ceil_div(N, 128) >= sm_count();
}

// CTAs per SM the W4A16 cluster kernel at 33-64 tokens is compiled for: 2 (128 registers) unless
// QSPEC_CLUSTER_MINB=1. Either keeps the bits.
inline int cluster_min_blocks() {
    static const int forced = env_int("QSPEC_CLUSTER_MINB", 0);
    return forced == 1 ? 1 : 2;
}

// CTAs per SM the tiled kernels are compiled for (their register cap): a grid of at most one CTA per
// SM gets the one-CTA build (up to 255 registers: no spills, room to overlap steps), a larger grid
// the two-CTA build (128 registers). QSPEC_TILED_MINB=1|2 forces one. Either keeps the bits.
inline int tiled_min_blocks(long ctas) {
    static const int forced = env_int("QSPEC_TILED_MINB", 0);
    if (forced == 1 || forced == 2) return forced;
    return ctas <= sm_count() ? 1 : 2;
}
