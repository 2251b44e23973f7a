// Experiment: how fast the tensor memory accelerator (TMA) streams a packed INT4 weight matrix (rows of
// 2048 bytes, K = 4096) into shared memory, by box shape and grid, with nothing else in the kernel: one
// lane copies 8 KB ring entries, eight warps wait for each and release it. The GEMV kernels' ceiling for
// their loads. Not part of the library or the test suite; results are recorded in docs/results/.
//
// A tile is TR rows over the whole row; a ring entry ("chunk") is TR rows x CB bytes (8 KB), brought in
// as boxes of BR rows x BW bytes, or as one 3-D box (dims: 64 bytes, rows, 64-byte steps) whose shared-memory
// image is the bulk GEMV's [step][row][64 bytes]. Grids: one CTA per tile (as the GEMVs), or persistent
// (4 CTAs per SM walking tiles t, t + grid, ... through one ring). Weights from HBM (copies rotated over
// 1 GiB) or from L2 (one copy). A plain 16-byte-load streaming kernel over the same bytes alongside.
//
// Build and run on an sm_90 GPU, from the repository root:
//   nvcc -O2 -std=c++17 -Inative/include -Inative/src -gencode=arch=compute_90a,code=sm_90a \
//     native/test/tma_rate.cu -o /tmp/tma_rate && /tmp/tma_rate
#include <cudaTypedefs.h>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>
#include "common.cuh"
#include "tensor_map.cuh"  // tma_load_2d, tma_load_3d, prefetch_tensor_map

namespace {

constexpr int ROWB = 2048, CHUNKB = 8192, RING = 4, CONSUMERS = 8, THREADS = (CONSUMERS + 1) * 32;

#define CK(x)                                                                                 \
    do {                                                                                      \
        cudaError_t e_ = (x);                                                                 \
        if (e_ != cudaSuccess) {                                                              \
            fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

struct Geometry {
    const char* name;
    int TR, CB, BR, BW;  // tile rows, chunk bytes per row, box rows, box bytes per row
    bool box3d, swizzle;
};

// g: TR, CB, BR, BW as above (runtime); tiles: the matrix's tiles; persistent: walk tiles by gridDim.x.
__global__ void __launch_bounds__(THREADS) tma_stream(const __grid_constant__ CUtensorMap map, Geometry g, int tiles,
                                                     int persistent, unsigned* sink) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    extern __shared__ __align__(1024) uint8_t smem[];
    uint64_t* full = reinterpret_cast<uint64_t*>(smem);
    uint64_t* empty = full + RING;
    uint8_t* ring = smem + 1024;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (threadIdx.x == 0) {
        for (int s = 0; s < RING; ++s) mbar_init(&full[s], 1), mbar_init(&empty[s], CONSUMERS);
        fence_barrier_init();
    }
    __syncthreads();
    const int chunks = ROWB / g.CB, bx = g.CB / g.BW, by = g.TR / g.BR;
    const int step = persistent ? gridDim.x : tiles;
    unsigned acc = 0;
    if (warp == CONSUMERS) {
        if (lane == 0) {
            prefetch_tensor_map(&map);
            int q = 0;
            for (int t = blockIdx.x; t < tiles; t += step)
                for (int c = 0; c < chunks; ++c, ++q) {
                    const int st = q % RING;
                    if (q >= RING) mbar_wait(&empty[st], ((q / RING) & 1) ^ 1);
                    mbar_arrive_expect_tx(&full[st], CHUNKB);
                    uint8_t* dst = ring + st * CHUNKB;
                    if (g.box3d) {
                        tma_load_3d(dst, &map, 0, t * g.TR, c * (g.CB / 64), &full[st]);
                    } else {
                        for (int i = 0; i < by; ++i)
                            for (int j = 0; j < bx; ++j)
                                tma_load_2d(dst + (i * bx + j) * g.BR * g.BW, &map, (c * g.CB + j * g.BW) / 8,
                                       t * g.TR + i * g.BR, &full[st]);
                    }
                }
        }
    } else {
        int q = 0;
        for (int t = blockIdx.x; t < tiles; t += step)
            for (int c = 0; c < chunks; ++c, ++q) {
                const int st = q % RING;
                mbar_wait(&full[st], (q / RING) & 1);
                acc ^= reinterpret_cast<const unsigned*>(ring + st * CHUNKB)[warp * 32 + lane];
                __syncwarp();
                if (lane == 0) mbar_arrive(&empty[st]);
            }
    }
    if (acc == 0x9e3779b9u) *sink = acc;
#endif
}

__global__ void read_words(const uint4* __restrict__ p, size_t n16, unsigned* sink) {
    unsigned acc = 0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n16; i += (size_t)gridDim.x * blockDim.x) {
        const uint4 v = __ldcs(p + i);
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (acc == 0x9e3779b9u) *sink = acc;
}

__global__ void fill(uint8_t* p, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = (uint8_t)(i * 2654435761u >> 13);
}

PFN_cuTensorMapEncodeTiled_v12000 encoder() {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult found;
    CK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &found));
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
}

// The map of `rows` rows of ROWB bytes at w for geometry g (8-byte elements), or false if refused.
bool encode(const Geometry& g, const uint8_t* w, int rows, CUtensorMap* m) {
    static const auto enc = encoder();
    const cuuint32_t es[3] = {1, 1, 1};
    CUresult r;
    if (g.box3d) {
        const cuuint64_t dims[3] = {8, (cuuint64_t)rows, ROWB / 64};
        const cuuint64_t strides[2] = {ROWB, 64};
        const cuuint32_t box[3] = {8, (cuuint32_t)g.TR, (cuuint32_t)(g.CB / 64)};
        r = enc(m, CU_TENSOR_MAP_DATA_TYPE_UINT64, 3, const_cast<uint8_t*>(w), dims, strides, box, es,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_NONE, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    } else {
        const cuuint64_t dims[2] = {ROWB / 8, (cuuint64_t)rows};
        const cuuint64_t strides[1] = {ROWB};
        const cuuint32_t box[2] = {(cuuint32_t)(g.BW / 8), (cuuint32_t)g.BR};
        r = enc(m, CU_TENSOR_MAP_DATA_TYPE_UINT64, 2, const_cast<uint8_t*>(w), dims, strides, box, es,
                CU_TENSOR_MAP_INTERLEAVE_NONE, g.swizzle ? CU_TENSOR_MAP_SWIZZLE_128B : CU_TENSOR_MAP_SWIZZLE_NONE,
                CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    }
    return r == CUDA_SUCCESS;
}

double time_graph(cudaStream_t st, const std::function<void(int)>& call) {
    constexpr int LAUNCHES = 40, REPS = 11;
    call(0);
    CK(cudaStreamSynchronize(st));
    cudaGraph_t g;
    cudaGraphExec_t ge;
    CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal));
    for (int i = 0; i < LAUNCHES; ++i) call(i);
    CK(cudaStreamEndCapture(st, &g));
    CK(cudaGraphInstantiate(&ge, g, 0));
    for (int w = 0; w < 3; ++w) CK(cudaGraphLaunch(ge, st));
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    std::vector<float> ms(REPS);
    for (auto& m : ms) {
        CK(cudaEventRecord(a, st));
        CK(cudaGraphLaunch(ge, st));
        CK(cudaEventRecord(b, st));
        CK(cudaEventSynchronize(b));
        CK(cudaEventElapsedTime(&m, a, b));
    }
    std::sort(ms.begin(), ms.end());
    CK(cudaGraphExecDestroy(ge));
    CK(cudaGraphDestroy(g));
    return ms[REPS / 2] * 1e-3 / LAUNCHES;
}

}  // namespace

int main() {
    cudaStream_t st;
    CK(cudaStreamCreate(&st));
    int sms = 0;
    CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
    const size_t arena = 1ull << 30;
    uint8_t* w;
    unsigned* sink;
    CK(cudaMalloc(&w, arena));
    CK(cudaMalloc(&sink, 4));
    fill<<<4096, 256, 0, st>>>(w, arena);
    const Geometry geos[] = {{"16x64 (GEMV box)", 16, 512, 16, 64, false, false},
                             {"16x128", 16, 512, 16, 128, false, false},
                             {"16x256", 16, 512, 16, 256, false, false},
                             {"16x512", 16, 512, 16, 512, false, false},
                             {"16x64x8 3-D", 16, 512, 16, 64, true, false},
                             {"128x64 (wgmma step box)", 128, 64, 128, 64, false, false},
                             {"64x128 swizzled", 64, 128, 64, 128, false, true}};
    // smem per CTA: barriers + ring, padded so that 4 CTAs fit per SM (as the W4A16 bulk GEMV)
    const int smem = 1024 + RING * CHUNKB + 16 * 1024;
    CK(cudaFuncSetAttribute(tma_stream, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    printf("tma,geometry,rows,MB,grid,source,us,GB_per_s\n");
    for (int rows : {4096, 14336, 128256}) {
        const size_t bytes = (size_t)rows * ROWB;
        const int copies = (int)std::min<size_t>(40, arena / bytes);
        for (int src = 0; src < 2; ++src) {  // 0: HBM (copies rotated), 1: L2 (one copy)
            if (src == 1 && bytes > (32u << 20)) continue;
            const int used = src == 0 ? copies : 1;
            const double tr = time_graph(st, [&](int i) {
                read_words<<<sms * 8, 256, 0, st>>>(reinterpret_cast<const uint4*>(w + (size_t)(i % used) * bytes),
                                                  bytes / 16, sink);
            });
            printf("tma,ldg-stream,%d,%.1f,%d,%s,%.2f,%.0f\n", rows, bytes / 1048576.0, sms * 8, src ? "L2" : "HBM",
                   tr * 1e6, bytes / tr / 1e9);
            for (const Geometry& g : geos) {
                std::vector<CUtensorMap> maps(used);
                bool ok = true;
                for (int c = 0; c < used; ++c) ok = ok && encode(g, w + (size_t)c * bytes, rows, &maps[c]);
                if (!ok) {
                    printf("tma,%s,%d,%.1f,-,%s,refused,-\n", g.name, rows, bytes / 1048576.0, src ? "L2" : "HBM");
                    continue;
                }
                const int tiles = rows / g.TR;
                for (int persistent = 0; persistent < 2; ++persistent) {
                    const int grid = persistent ? std::min(tiles, sms * 4) : tiles;
                    const double t = time_graph(st, [&](int i) {
                        tma_stream<<<grid, THREADS, smem, st>>>(maps[i % used], g, tiles, persistent, sink);
                    });
                    CK(cudaGetLastError());
                    printf("tma,%s,%d,%.1f,%s %d,%s,%.2f,%.0f\n", g.name, rows, bytes / 1048576.0,
                           persistent ? "persistent" : "per-tile", grid, src ? "L2" : "HBM", t * 1e6, bytes / t / 1e9);
                    fflush(stdout);
                }
            }
        }
    }
    return 0;
}
