// weight_step_map (tensor_map.cuh): cuTensorMapEncodeTiled reached through the runtime's driver entry
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

struct Key {
    const uint8_t* w;
    int n, row_bytes, rows;
    bool operator==(const Key& o) const { return w == o.w && n == o.n && row_bytes == o.row_bytes && rows == o.rows; }
};
struct KeyHash {
    size_t operator()(const Key& k) const {
        return std::hash<const void*>()(k.w) ^
               (std::hash<long long>()(((long long)k.n << 32) | (unsigned)k.row_bytes) * 31 + (size_t)k.rows);
    }
};

}  // namespace

bool weight_step_map(const uint8_t* w, int N, int row_bytes, int rows, CUtensorMap* out) {
    static std::mutex lock;
    static std::unordered_map<Key, CUtensorMap, KeyHash> maps;  // a model has a few hundred weight matrices
    if (N <= 0 || row_bytes <= 0 || row_bytes % 64 != 0 || rows <= 0 || rows > 256 ||
        reinterpret_cast<uintptr_t>(w) % 16 != 0)
        return false;
    const Key key{w, N, row_bytes, rows};
    std::lock_guard<std::mutex> guard(lock);
    const auto hit = maps.find(key);
    if (hit != maps.end()) {
        *out = hit->second;
        return true;
    }
    const PFN_cuTensorMapEncodeTiled_v12000 encode = encoder();
    if (encode == nullptr) return false;
    // 8-byte elements: a row is row_bytes / 8 of them; a box is 8 of them (64 bytes) by `rows` rows
    const cuuint64_t dims[2] = {(cuuint64_t)row_bytes / 8, (cuuint64_t)N};
    const cuuint64_t strides[1] = {(cuuint64_t)row_bytes};
    const cuuint32_t box[2] = {8, (cuuint32_t)rows}, elem_strides[2] = {1, 1};
    CUtensorMap map;
    if (encode(&map, CU_TENSOR_MAP_DATA_TYPE_UINT64, 2, const_cast<uint8_t*>(w), dims, strides, box, elem_strides,
               CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_NONE, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
               CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) != CUDA_SUCCESS)
        return false;
    if (maps.size() >= 4096) maps.clear();  // weights uploaded and freed many times over: start again
    maps.emplace(key, map);
    *out = map;
    return true;
}
