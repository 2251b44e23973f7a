// Tensor maps (sm_90 TMA descriptors) of packed INT4 weight matrices, for the bulk-copy GEMV.
#pragma once
#include <cuda.h>  // CUtensorMap (the type only: the encoder is reached through the runtime, see tensor_map.cu)
#include <stdint.h>

// The tensor map that cuts a packed weight matrix (N rows of row_bytes bytes, 16-byte aligned,
// row_bytes a multiple of 64) into boxes of `rows` rows (16 or 32) x 64 bytes, one warp step of the INT4
// GEMMs (w4_tiles.cuh) for one or two row tiles; coordinates (byte / 8, row). Rows past N read as
// zeros. Encoded once per (address, N, row_bytes, rows) and cached. False where the driver has no
// cuTensorMapEncodeTiled or refuses the map.
bool weight_step_map(const uint8_t* w, int N, int row_bytes, int rows, CUtensorMap* out);

// Returned by the bulk-copy launches when weight_step_map fails: the caller takes another kernel.
constexpr int NO_TENSOR_MAP = -2;

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
// Copies the box at (c0, c1) of `map` (a __grid_constant__ kernel parameter) to dst (128-byte aligned),
// counted on the mbarrier bar in bytes.
__device__ __forceinline__ void tma_load_2d(void* dst, const CUtensorMap* map, int c0, int c1, uint64_t* bar) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];" ::"r"(
            static_cast<unsigned>(__cvta_generic_to_shared(dst))),
        "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(static_cast<unsigned>(__cvta_generic_to_shared(bar)))
        : "memory");
}
// Brings the descriptor into the TMA unit's cache before the first copy needs it.
__device__ __forceinline__ void prefetch_tensor_map(const CUtensorMap* map) {
    asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}
#endif
