// The tensor maps of tensor_map.cuh: cuTensorMapEncodeTiled reached through the runtime's driver entry
// point, so the library needs no link to libcuda, and a cache of the maps already encoded.
#include <cudaTypedefs.h>
#include <mutex>
#include <unordered_map>
#include "tensor_map.cuh"

namespace {

PFN_cuTensorMapEncodeTiled_v12000 encoder() {
    static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
        void* p = nullptr;
        cudaDriverEntryPointQueryResult found;
        if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &found) !=
                cudaSuccess ||
            found != cudaDriverEntryPointSuccess) {
            (void)cudaGetLastError();
            p = nullptr;
        }
        return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
    }();
    return fn;
}

// A 2-D map: `rows` rows of `row_elems` elements of `elem_bytes` bytes, `pitch` bytes apart, cut into
// boxes of box_cols x box_rows elements.
struct Key {
    const void* base;
    long long row_elems, rows, pitch;
    int elem_bytes, box_cols, box_rows, swizzle;
    int steps = 0;  // a 3-D map (weight_chunk_map): boxes of `steps` 64-byte steps; 0: a 2-D map
    bool operator==(const Key& o) const {
        return base == o.base && row_elems == o.row_elems && rows == o.rows && pitch == o.pitch &&
               elem_bytes == o.elem_bytes && box_cols == o.box_cols && box_rows == o.box_rows && swizzle == o.swizzle &&
               steps == o.steps;
    }
};
struct KeyHash {
    size_t operator()(const Key& k) const {
        size_t h = std::hash<const void*>()(k.base);
        for (long long v : {k.row_elems, k.rows, k.pitch, (long long)k.elem_bytes, (long long)k.box_cols,
                            (long long)k.box_rows, (long long)k.swizzle, (long long)k.steps})
            h = h * 1000003u ^ std::hash<long long>()(v);
        return h;
    }
};

bool cached_map(const Key& key, CUtensorMap* out) {
    static std::mutex lock;
    static std::unordered_map<Key, CUtensorMap, KeyHash> maps;  // a model has a few hundred weight matrices
    std::lock_guard<std::mutex> guard(lock);
    const auto hit = maps.find(key);
    if (hit != maps.end()) {
        *out = hit->second;
        return true;
    }
    const PFN_cuTensorMapEncodeTiled_v12000 encode = encoder();
    if (encode == nullptr) return false;
    // 2-D: (element, row). 3-D (weight_chunk_map): (element of a 64-byte step, row, step), the steps 64
    // bytes apart inside a row, so that a box's image in shared memory is [step][row][64 bytes].
    const bool three = key.steps > 0;
    const cuuint64_t dims[3] = {three ? 64ull / key.elem_bytes : (cuuint64_t)key.row_elems, (cuuint64_t)key.rows,
                                three ? (cuuint64_t)(key.row_elems * key.elem_bytes / 64) : 1};
    const cuuint64_t strides[2] = {(cuuint64_t)key.pitch, 64};
    const cuuint32_t box[3] = {(cuuint32_t)key.box_cols, (cuuint32_t)key.box_rows, (cuuint32_t)key.steps},
                     elem_strides[3] = {1, 1, 1};
    CUtensorMap map;
    const CUtensorMapDataType type = key.elem_bytes == 8   ? CU_TENSOR_MAP_DATA_TYPE_UINT64
                                     : key.elem_bytes == 4 ? CU_TENSOR_MAP_DATA_TYPE_UINT32
                                     : key.elem_bytes == 2 ? CU_TENSOR_MAP_DATA_TYPE_UINT16
                                                           : CU_TENSOR_MAP_DATA_TYPE_UINT8;
    if (encode(&map, type, three ? 3 : 2,
               const_cast<void*>(key.base), dims, strides, box, elem_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
               key.swizzle ? CU_TENSOR_MAP_SWIZZLE_128B : CU_TENSOR_MAP_SWIZZLE_NONE,
               CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) != CUDA_SUCCESS)
        return false;
    if (maps.size() >= 4096) maps.clear();  // buffers allocated and freed many times over: start again
    maps.emplace(key, map);
    *out = map;
    return true;
}

}  // namespace

bool weight_step_map(const uint8_t* w, int N, int row_bytes, int rows, CUtensorMap* out) {
    if (N <= 0 || row_bytes <= 0 || row_bytes % 64 != 0 || rows <= 0 || rows > 256 ||
        reinterpret_cast<uintptr_t>(w) % 16 != 0)
        return false;
    // 8-byte elements: a row is row_bytes / 8 of them; a box is 8 of them (64 bytes) by `rows` rows
    return cached_map(Key{w, row_bytes / 8, N, row_bytes, 8, 8, rows, 0}, out);
}

bool weight_chunk_map(const uint8_t* w, int N, int row_bytes, int rows, int steps, CUtensorMap* out) {
    if (N <= 0 || row_bytes <= 0 || row_bytes % 64 != 0 || rows <= 0 || rows > 256 || steps <= 0 || steps > 256 ||
        steps > row_bytes / 64 || reinterpret_cast<uintptr_t>(w) % 16 != 0)
        return false;
    Key key{w, row_bytes / 8, N, row_bytes, 8, 8, rows, 0};
    key.steps = steps;
    return cached_map(key, out);
}

bool activation_tile_map(const int8_t* x, int M, int row_bytes, int rows, CUtensorMap* out) {
    if (M <= 0 || row_bytes <= 0 || row_bytes % 128 != 0 || rows <= 0 || rows > 256 ||
        reinterpret_cast<uintptr_t>(x) % 16 != 0)
        return false;
    return cached_map(Key{x, row_bytes, M, row_bytes, 1, 128, rows, 1}, out);
}

namespace {
bool pitched_map(const void* base, int elem_bytes, int cols, int rows, long long pitch_bytes, int box_cols, int box_rows,
                 int swizzle, CUtensorMap* out) {
    if ((elem_bytes != 1 && elem_bytes != 2 && elem_bytes != 4 && elem_bytes != 8) || cols <= 0 || rows <= 0 ||
        pitch_bytes < (long long)cols * elem_bytes || pitch_bytes % 16 != 0 || box_cols <= 0 || box_cols > 256 ||
        box_cols * elem_bytes % 16 != 0 || box_rows <= 0 || box_rows > 256 || reinterpret_cast<uintptr_t>(base) % 16 != 0)
        return false;
    return cached_map(Key{base, cols, rows, pitch_bytes, elem_bytes, box_cols, box_rows, swizzle}, out);
}
}  // namespace

bool matrix_tile_map(const void* base, int elem_bytes, int cols, int rows, long long pitch_bytes, int box_cols,
                     int box_rows, CUtensorMap* out) {
    return pitched_map(base, elem_bytes, cols, rows, pitch_bytes, box_cols, box_rows, 0, out);
}

bool swizzled_tile_map(const void* base, int elem_bytes, int cols, int rows, long long pitch_bytes, int box_rows,
                       CUtensorMap* out) {
    return pitched_map(base, elem_bytes, cols, rows, pitch_bytes, elem_bytes > 0 ? 128 / elem_bytes : 0, box_rows, 1, out);
}

bool matrix_tile_map(const void* base, int elem_bytes, int cols, int rows, int box_cols, int box_rows, CUtensorMap* out) {
    return matrix_tile_map(base, elem_bytes, cols, rows, (long long)cols * elem_bytes, box_cols, box_rows, out);
}
