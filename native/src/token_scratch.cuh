// Device memory for one GEMM call's tokens in MMA order (permute_tokens_rf, permute_tokens_direct), taken in stream
// order: allocated from the library's pool on the call's stream before the permutation and freed on it after the
// GEMM. Calls on different streams never share it, and a call captured into a CUDA graph gets the graph's own
// allocation (an allocation node and a free node) instead of an address that a later call could move. The pool
// keeps up to POOL_KEEP bytes between calls rather than returning them to the driver at each synchronisation, so an
// uncaptured call costs two host calls and no cudaMalloc. The largest request the GEMMs' rules make is 7.3 MB (256
// tokens of K = 14336 in fp16). Where there is no pool (a device without memory pools, or its first request made
// during a capture) or an allocation fails, the caller runs its kernel that needs no scratch: the same bits.
#pragma once
#include <cuda_runtime.h>
#include <stddef.h>

#include <mutex>

namespace w4 {

constexpr unsigned long long POOL_KEEP = 64ull << 20;

// The current device's pool, created on the first request made outside a stream capture (a pool's creation is not
// a stream operation); nullptr where pools are unsupported or creation failed (not retried).
inline cudaMemPool_t token_scratch_pool(cudaStream_t st) {
    static std::mutex lock;
    static cudaMemPool_t pools[64];
    static bool tried[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) {
        (void)cudaGetLastError();
        return nullptr;
    }
    std::lock_guard<std::mutex> hold(lock);
    if (pools[dev] != nullptr || tried[dev]) return pools[dev];
    cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(st, &capturing) != cudaSuccess || capturing != cudaStreamCaptureStatusNone) {
        (void)cudaGetLastError();
        return nullptr;
    }
    tried[dev] = true;
    int supported = 0;
    if (cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, dev) != cudaSuccess || !supported) {
        (void)cudaGetLastError();
        return nullptr;
    }
    cudaMemPoolProps props = {};
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = dev;
    cudaMemPool_t pool = nullptr;
    if (cudaMemPoolCreate(&pool, &props) != cudaSuccess) {
        (void)cudaGetLastError();
        return nullptr;
    }
    unsigned long long keep = POOL_KEEP;
    (void)cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
    (void)cudaGetLastError();
    pools[dev] = pool;
    return pool;
}

// A call's scratch: take() allocates on the stream, and the destructor frees on it, after whatever the call queued.
class TokenScratch {
public:
    explicit TokenScratch(cudaStream_t st) : st_(st) {}
    TokenScratch(const TokenScratch&) = delete;
    TokenScratch& operator=(const TokenScratch&) = delete;
    ~TokenScratch() {
        if (p_ != nullptr && cudaFreeAsync(p_, st_) != cudaSuccess) (void)cudaGetLastError();
    }
    // `bytes` usable by work queued on the stream after this call, or nullptr (see above); one take per scratch.
    void* take(size_t bytes) {
        if (p_ != nullptr) return nullptr;
        cudaMemPool_t pool = token_scratch_pool(st_);
        void* p = nullptr;
        if (pool == nullptr || cudaMallocFromPoolAsync(&p, bytes, pool, st_) != cudaSuccess) {
            (void)cudaGetLastError();
            return nullptr;
        }
        return p_ = p;
    }

private:
    cudaStream_t st_;
    void* p_ = nullptr;
};

}  // namespace w4
