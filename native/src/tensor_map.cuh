// Tensor maps (sm_90 TMA descriptors): packed INT4 weight matrices (the bulk-copy GEMVs, the draft's
// warpgroup GEMM) and int8 activation tiles (the draft's warpgroup GEMM).
#pragma once
#include <cuda.h>  // CUtensorMap (the type only: the encoder is reached through the runtime, see tensor_map.cu)
#include <stdint.h>

// The tensor map that cuts a packed weight matrix (N rows of row_bytes bytes, 16-byte aligned,
// row_bytes a multiple of 64) into boxes of `rows` rows (16 or 32) x 64 bytes, one warp step of the INT4
// GEMMs (w4_tiles.cuh) for one or two row tiles; coordinates (byte / 8, row). Rows past N read as
// zeros. Encoded once per (address, N, row_bytes, rows) and cached. False where the driver has no
// cuTensorMapEncodeTiled or refuses the map.
bool weight_step_map(const uint8_t* w, int N, int row_bytes, int rows, CUtensorMap* out);

// The tensor map that cuts the same matrix into boxes of `rows` rows x `steps` consecutive 64-byte warp
// steps, stored in shared memory step-major ([step][row][64 bytes]: the image of `steps` boxes of
// weight_step_map side by side), so one copy brings a bulk GEMV's whole chunk; coordinates (0, row, step).
// False where the driver has no encoder or refuses the map.
bool weight_chunk_map(const uint8_t* w, int N, int row_bytes, int rows, int steps, CUtensorMap* out);

// The tensor map that cuts int8 activations (M rows of row_bytes bytes, row_bytes a multiple of 128,
// 16-byte aligned) into boxes of `rows` rows x 128 bytes, stored with the 128-byte swizzle that wgmma's
// K-major shared-memory operands use; coordinates (byte, row). Rows past M read as zeros. Cached as
// weight_step_map's are. False where the driver has no encoder or refuses the map.
bool activation_tile_map(const int8_t* x, int M, int row_bytes, int rows, CUtensorMap* out);

// The tensor map of a row-major matrix of `rows` rows x `cols` elements of elem_bytes bytes (1, 2, 4 or 8;
// rows of a multiple of 16 bytes, 16-byte aligned), cut into boxes of box_cols x box_rows elements
// (box_cols x elem_bytes a multiple of 16); coordinates (column, row). Elements past the matrix read as
// zeros. Cached as weight_step_map's are. False where the shape or alignment does not allow a map.
bool matrix_tile_map(const void* base, int elem_bytes, int cols, int rows, int box_cols, int box_rows, CUtensorMap* out);
// The same with rows pitch_bytes apart (a multiple of 16, at least cols x elem_bytes): an fp16 activation
// matrix of K columns whose rows are ldx elements apart.
bool matrix_tile_map(const void* base, int elem_bytes, int cols, int rows, long long pitch_bytes, int box_cols,
                     int box_rows, CUtensorMap* out);

// The tensor map of a row-major matrix as matrix_tile_map's (rows pitch_bytes apart), cut into boxes of
// 128 bytes x box_rows stored with the 128-byte swizzle (16-byte unit u of box row r at unit u ^ (r % 8)).
bool swizzled_tile_map(const void* base, int elem_bytes, int cols, int rows, long long pitch_bytes, int box_rows,
                       CUtensorMap* out);

// Returned by the launches that need a tensor map when encoding it fails: the caller takes another kernel.
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
// The 3-D box at (c0, c1, c2) of `map`, as tma_load_2d.
__device__ __forceinline__ void tma_load_3d(void* dst, const CUtensorMap* map, int c0, int c1, int c2, uint64_t* bar) {
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], [%5];" ::"r"(
            static_cast<unsigned>(__cvta_generic_to_shared(dst))),
        "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2),
        "r"(static_cast<unsigned>(__cvta_generic_to_shared(bar)))
        : "memory");
}
// Brings the descriptor into the TMA unit's cache before the first copy needs it.
__device__ __forceinline__ void prefetch_tensor_map(const CUtensorMap* map) {
    asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}
#endif
