// A device buffer of the library's for the opt-in experiments that permute a GEMM's tokens before it (session 49:
// QSPEC_WGMMA_DRAFT_RF, QSPEC_WGMMA_VERIFY_DIRECT). Scaffolding for measurements, not a design for the runner: one
// buffer per device, grown with cudaMalloc outside stream capture. A buffer it grew out of is never freed (captured
// graphs may still name it), so the memory stays below twice the largest size asked for. Calls on one stream take it
// in turn (stream order); the experiments are not for several streams at once.
#pragma once
#include <cuda_runtime.h>
#include <stddef.h>

namespace w4 {

// At least `bytes` of device memory, or nullptr where it would have to grow during a stream capture or cannot (the
// caller then takes the kernel without the experiment).
inline void* experiment_buffer(size_t bytes, cudaStream_t st) {
    static void* buf[64];
    static size_t cap[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return nullptr;
    if (cap[dev] >= bytes) return buf[dev];
    cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(st, &capturing) != cudaSuccess || capturing != cudaStreamCaptureStatusNone) return nullptr;
    size_t grown = cap[dev] == 0 ? size_t(16) << 20 : 2 * cap[dev];
    while (grown < bytes) grown *= 2;
    void* p = nullptr;
    if (cudaMalloc(&p, grown) != cudaSuccess) {
        (void)cudaGetLastError();
        return nullptr;
    }
    buf[dev] = p;  // (the one before stays allocated: see above)
    cap[dev] = grown;
    return p;
}

}  // namespace w4
