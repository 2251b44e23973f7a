// Experiment (KERNELS.md, Next 0): what a persistent kernel that walks several layers' decode GEMVs could save over
// one launch per GEMV. Not part of the library: it includes w4a16_gemm.cu to reach its step_mma, so that the chain's
// sums are the bulk GEMV's bit for bit (checked below), and it is built beside the library (`make chain-bench`).
//
// The chain: the matrices of L decoder layers of Llama-3-8B in decode order (q|k|v 4096 -> 6144, o 4096 -> 4096,
// gate|up 4096 -> 28672, down 14336 -> 4096), random INT4 weights and fp16 scales in one arena of L x 113 MB (so every
// byte comes from HBM), M tokens. Each GEMV reads its own input vector; the dependency of GEMV j + 1 on GEMV j is
// kept as an order: no CTA copies GEMV j + 1's activations before every CTA has stored GEMV j's sums (a grid-wide
// count), which is what a decode step's data flow would impose. The weights of GEMV j + 1 do not depend on anything,
// so a CTA that is done with GEMV j starts copying them into its ring at once: the next matrix's first bytes are in
// flight while the last CTAs of this one finish. That overlap is what one launch per GEMV cannot have.
//
// Measured per M (median of REPS replays of one CUDA graph each):
//   product   one qspec_w4a16_gemm per GEMV (the library's kernels and rules), a graph of 4L launches;
//   per-gemv  this file's kernel launched once per GEMV (4L launches): the same kernel as `chain` without the walk;
//   chain     this file's kernel launched once for all 4L GEMVs (a persistent grid, one ring through all of them);
//   read      every weight and scale byte read once by a streaming kernel (the HBM read rate's time for the bytes).
// and whether `chain` and `per-gemv` give the bits of `product` on every output; then the chains of one layer each (o,
// gate|up, down, the next q|k|v: the GEMVs a decode step runs with nothing between them), one launch per layer, against
// the product in the same order; and for each shape alone over the layers, the product, per-gemv and chain.
//
// Build: `make -C native chain-bench` (sm_90a; build/chain_bench). Run: chain_bench [layers (32)] [M list (1,2,4,8)].
// CHAIN_RING=2|3|4: the ring depth (default 3 where two CTAs fit on an SM, else 2); CHAIN_PER_SM=1|2: CTAs per
// SM (default 2); CHAIN_V=3|7|15: the variants (chain_kernel; 7 by default). Results: docs/results/h100-s32/.
#include "../src/w4a16_gemm.cu"
#include "bench_data.cuh"
#include "common.h"  // CK, CQ
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace chain {
using namespace w4::bulk;
constexpr int NT = 2;  // row tiles per CTA: the bulk GEMV's at M = 1-8 on these matrices

struct Info {  // what a GEMV's CTAs read besides the tensor map; the kernel keeps the table in shared memory
    const half* x;
    const half* ws;
    float* y;
    int N, K, tiles, nchunks;
};
struct alignas(128) Job {
    CUtensorMap wmap;  // weight_chunk_map of 16 NT rows x WK steps
    Info info;
};

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
// Waits until *count reaches target (every CTA of the grid has stored a GEMV's sums), then orders the copies this
// thread issues next (the async proxy) after what the acquire made visible.
__device__ __forceinline__ void wait_count(const unsigned* count, unsigned target) {
    unsigned v;
    do {
        asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(count) : "memory");
    } while (v < target);
    asm volatile("fence.proxy.async.global;" ::: "memory");
}
#endif

// Jobs j0 .. j0 + njobs - 1, each over its row tiles (place), (place) + G, ... (G = gridDim.y, every CTA resident).
// done[j]: CTAs finished with job j (zero before the launch). The ring holds R chunks; its entry of the k-th chunk
// through it is k % R, computed at run time (the library's bulk GEMVs index theirs at compile time, which needs every
// GEMV's chunk count to be a multiple of R: with down's 14 chunks that allows only 2). Chunks are taken in pairs
// (every count here is even), so the scale buffers stay indexed at compile time.
// Variants (V, bits; calls 4 and 5 measured them): 1, only one thread fences before counting a job done (after the
// consumers' barrier, whose writes the fence's cumulativity covers); 2, the first job's tensor map from the kernel
// parameter pmap, as the library's kernels take theirs; 4, CTAs take row tiles by their place, k nsm + (the SM's rank
// among the SMs) for the k-th CTA to start on an SM (nsm > 0: the grid is nsm SMs x CTAs per SM, every SM full), so
// that a GEMV of fewer tiles than CTAs (o and down: 128) gets one CTA on each of its SMs (by blockIdx, call 4 found
// CTAs 0-127 on 120 SMs, two on 8 of them). slots: 2049 counters, zero before the first launch. 8 (a measurement,
// not a chain): no CTA waits for the GEMV before, so the GEMVs only stream one after another; what the grid-wide
// dependency costs. smids (if set): each place's SM (census).
template <int R, int V>
__global__ void __launch_bounds__(THREADS, 2)
    chain_kernel(const __grid_constant__ CUtensorMap pmap, const Job* __restrict__ jobs, int j0, int njobs, int M,
                 unsigned* done, int* smids, unsigned* slots, int nsm, int per_sm) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    using L = Layout<2, NT, R>;
    __shared__ int place_shared;
    if (threadIdx.x == 0) {
        int sm;
        asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
        int v = blockIdx.y;
        if ((V & 4) != 0 && nsm > 0) {
            // counters that are never reset: each launch adds per_sm to every SM's count and nsm to the ranks'
            sm &= 1023;
            const unsigned old = atomicAdd(&slots[sm], 1u), gen = old / per_sm, slot = old % per_sm;
            unsigned rank;
            if (slot == 0) {
                rank = atomicAdd(&slots[2048], 1u) % nsm;
                atomicExch(&slots[1024 + sm], (gen << 10) + rank + 1);
            } else {
                unsigned pub;
                do pub = atomicAdd(&slots[1024 + sm], 0u);
                while (pub == 0 || ((pub - 1) >> 10) != gen);
                rank = (pub - 1) & 1023;
            }
            v = (int)(slot * nsm + rank);
        }
        place_shared = v;
        if (smids != nullptr) smids[v] = sm;
    }
    extern __shared__ __align__(128) uint8_t bsm[];
    __shared__ float red[WK * NT * 4 * 32];
    // the jobs' fields in shared memory after the ring (a global load at every job start would be a memory latency
    // on the way to its first copy and its first scales)
    Info* const info = reinterpret_cast<Info*>(bsm + BARRIERS + R * (L::WSTAGE + M * L::XPITCH)) - j0;  // smem_bytes(M)
    for (int j = j0 + threadIdx.x; j < j0 + njobs; j += blockDim.x) info[j] = jobs[j].info;
    Ring<2, NT, R> ring(bsm, 0);  // (its constructor synchronises the CTA)
    const int vb = place_shared;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const int G = gridDim.y, jend = j0 + njobs;
    if (warp == WK) {
        if (lane == 0) {
            int q = 0;  // chunks through the ring so far
            for (int j = j0; j < jend; ++j) {
                const Info& jb = info[j];
                const CUtensorMap* wmap = (V & 2) != 0 && j == j0 ? &pmap : &jobs[j].wmap;
                if (j == j0) prefetch_tensor_map(wmap);
                if (j + 1 < jend) prefetch_tensor_map(&jobs[j + 1].wmap);  // a job ahead
                const uint8_t* x = reinterpret_cast<const uint8_t*>(jb.x);
                const long ldx_bytes = 2L * jb.K;
                const int nchunks = jb.nchunks;
                auto weights = [&](int n_base, int c) {  // chunk c of the tile: its weights, once its entry is free
                    const int k = q + c, st = k % R;
                    if (k >= R) mbar_wait(&ring.empty[st], ((k / R) & 1) ^ 1);
                    mbar_arrive_expect_tx(&ring.full[st], L::WSTAGE + M * L::XROW);
                    tma_load_3d(ring.wst + st * L::WSTAGE, wmap, 0, n_base, c * WK, &ring.full[st]);
                };
                auto tokens = [&](int c) {  // ... and its activations
                    const int st = (q + c) % R;
                    for (int m = 0; m < M; ++m)
                        bulk_copy_g2s(ring.xst + (m * R + st) * L::XPITCH, x + m * ldx_bytes + (long)c * (CHUNK * 2),
                                      L::XROW, &ring.full[st]);
                };
                bool ready = j == j0;
                for (int tile = vb; tile < jb.tiles; tile += G) {
                    const int n_base = tile * 16 * NT;
                    int c = 0;
                    if (!ready) {  // the first chunks' weights now, their activations once the GEMV before is done
                        const int first = min(R, nchunks);
                        for (; c < first; ++c) weights(n_base, c);
                        if constexpr ((V & 8) == 0) wait_count(done + j - 1, G);
                        ready = true;
                        for (int i = 0; i < first; ++i) tokens(i);
                    }
                    for (; c < nchunks; ++c) {
                        weights(n_base, c);
                        tokens(c);
                    }
                    q += nchunks;
                }
            }
        }
        __syncwarp();
    } else {
        const int xm = min(g, M - 1);  // tokens past M read token M - 1 (their outputs are never stored)
        // this CTA's work items (job, row tile) in order; CTAs with no tile in a job still count it as done
        auto first_from = [&](int j) {
            while (j < jend && vb >= info[j].tiles) ++j;
            return j;
        };
        auto count_done = [&](int from, int to) {  // jobs from .. to - 1 are done in this CTA
            if (from >= to) return;
            if constexpr ((V & 1) == 0) __threadfence();
            asm volatile("bar.sync 1, %0;" ::"n"(WK * 32) : "memory");
            if constexpr ((V & 1) != 0)
                if (threadIdx.x == 0) __threadfence();
            if (threadIdx.x == 0)
                for (int j = from; j < to; ++j) atomicAdd(done + j, 1u);
        };
        int j = first_from(j0), tile = vb;
        count_done(j0, j);
        // the scales of chunks c and c + 1 (buffer c % 2), a chunk ahead as the bulk GEMV loads them; the next work
        // item's first chunk during the last chunk of this one (nchunks is even, so that one is in buffer 0)
        ScaleRows<NT, false> srow;
        half sr[2][NT][2];
        auto load_scales = [&](int b, int c) {
#pragma unroll
            for (int i = 0; i < NT; ++i)
#pragma unroll
                for (int h = 0; h < 2; ++h) sr[b][i][h] = srow.at(nullptr, i, h, c);
        };
        if (j < jend) {
            srow.set(info[j].ws, tile * 16 * NT, g, info[j].N, info[j].K / KSTEP, warp);
            load_scales(0, 0);
        }
        int q = 0;
        while (j < jend) {
            const Info& jb = info[j];
            float* y = jb.y;
            const int N = jb.N, nchunks = jb.nchunks, tiles = jb.tiles;
            int nj = j, ntile = tile + G;  // the next work item
            if (ntile >= tiles) {
                nj = first_from(j + 1);
                ntile = vb;
            }
            const int n_base = tile * 16 * NT;
            float acc[1][NT][4];
            zero_fragments(acc);
            for (int c0 = 0; c0 < nchunks; c0 += 2) {
#pragma unroll
                for (int u = 0; u < 2; ++u) {
                    const int c = c0 + u, k = q + c, st = k % R;
                    if (c + 1 < nchunks) {
                        load_scales(1 - u, c + 1);
                    } else if (nj < jend) {
                        const Info& nx = info[nj];
                        srow.set(nx.ws, ntile * 16 * NT, g, nx.N, nx.K / KSTEP, warp);
                        load_scales(0, 0);
                    }
                    mbar_wait(&ring.full[st], (k / R) & 1);
                    const uint8_t* wt = ring.wst + st * L::WSTAGE + warp * L::WSTEP + 16 * t;
                    uint4 w[NT][2];
#pragma unroll
                    for (int i = 0; i < NT; ++i)
#pragma unroll
                        for (int h = 0; h < 2; ++h)
                            w[i][h] = *reinterpret_cast<const uint4*>(wt + 64 * (16 * i + 8 * h + g));
                    const uint8_t* xt = ring.xst + (xm * R + st) * L::XPITCH + (warp * KSTEP + 32 * t) * 2;
                    uint4 xv[4];
#pragma unroll
                    for (int e = 0; e < 4; ++e) xv[e] = *reinterpret_cast<const uint4*>(xt + 16 * e);
                    step_mma<1, NT, true>(w, sr[u], [&](int, int e) { return xv[e]; }, acc);
                    __syncwarp();
                    if (lane == 0) mbar_arrive(&ring.empty[st]);
                }
            }
            reduce_store<true>(acc, red, y, N, M, N, n_base, false);
            q += nchunks;
            count_done(j, nj);  // this CTA's sums of jobs j .. nj - 1 are stored
            j = nj;
            tile = ntile;
        }
        count_done(j, jend);
    }
#endif
}
}  // namespace chain

namespace {


// Median milliseconds of a graph captured from `body`.
template <class Body>
double time_graph(cudaStream_t st, Body&& body, int reps = 9) {
    body();
    CK(cudaStreamSynchronize(st));
    cudaGraph_t gr;
    cudaGraphExec_t ge;
    CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal));
    body();
    CK(cudaStreamEndCapture(st, &gr));
    CK(cudaGraphInstantiate(&ge, gr, 0));
    for (int w = 0; w < 2; ++w) CK(cudaGraphLaunch(ge, st));
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    std::vector<float> ms(reps);
    for (int r = 0; r < reps; ++r) {
        CK(cudaEventRecord(a, st));
        CK(cudaGraphLaunch(ge, st));
        CK(cudaEventRecord(b, st));
        CK(cudaEventSynchronize(b));
        CK(cudaEventElapsedTime(&ms[r], a, b));
    }
    std::sort(ms.begin(), ms.end());
    CK(cudaGraphExecDestroy(ge));
    CK(cudaGraphDestroy(gr));
    return ms[reps / 2];
}

}  // namespace

int main(int argc, char** argv) {
    using chain::Job;
    const int layers = argc > 1 ? atoi(argv[1]) : 32;
    std::vector<int> ms_list;
    for (std::string s = argc > 2 ? argv[2] : "1,2,4,8"; !s.empty();) {
        const size_t p = s.find(',');
        ms_list.push_back(atoi(s.substr(0, p).c_str()));
        s = p == std::string::npos ? "" : s.substr(p + 1);
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);
    cudaStream_t st;
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));

    const int shapes[4][2] = {{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336}};  // N, K per layer
    const char* names[4] = {"q|k|v", "o", "gate|up", "down"};
    const int njobs = 4 * layers, MMAX = 8;
    std::vector<size_t> off(njobs);
    size_t total = 0, wbytes_total = 0;
    for (int j = 0; j < njobs; ++j) {
        const int N = shapes[j % 4][0], K = shapes[j % 4][1];
        off[j] = total;
        const size_t bytes = (size_t)N * K / 2 + (size_t)N * (K / 128) * 2;
        wbytes_total += bytes;
        total += (bytes + 255) / 256 * 256;
    }
    uint8_t* arena;
    CK(cudaMalloc(&arena, total));
    fill_bytes<<<4096, 256, 0, st>>>(arena, total, 12345u);
    half *x4096, *x14336;
    CK(cudaMalloc(&x4096, sizeof(half) * MMAX * 4096));
    CK(cudaMalloc(&x14336, sizeof(half) * MMAX * 14336));
    fill_f16<<<64, 256, 0, st>>>(x4096, (size_t)MMAX * 4096, -1.f, 1.f, 77u);
    fill_f16<<<64, 256, 0, st>>>(x14336, (size_t)MMAX * 14336, -1.f, 1.f, 78u);
    std::vector<Job> jobs(njobs);
    std::vector<float*> y_product(njobs), y_chain(njobs), y_single(njobs);
    for (int j = 0; j < njobs; ++j) {
        const int N = shapes[j % 4][0], K = shapes[j % 4][1];
        uint8_t* wp = arena + off[j];
        half* ws = reinterpret_cast<half*>(wp + (size_t)N * K / 2);
        fill_f16<<<256, 256, 0, st>>>(ws, (size_t)N * (K / 128), 0.005f, 0.05f, 1000u + j);
        Job& jb = jobs[j];
        if (!weight_chunk_map(wp, N, K / 2, 16 * chain::NT, WK, &jb.wmap)) {
            fprintf(stderr, "no tensor map for job %d\n", j);
            return 2;
        }
        jb.info.x = K == 4096 ? x4096 : x14336;
        jb.info.ws = ws;
        jb.info.N = N;
        jb.info.K = K;
        jb.info.tiles = (N + 16 * chain::NT - 1) / (16 * chain::NT);
        jb.info.nchunks = K / w4::bulk::CHUNK;
        if (K % w4::bulk::CHUNK != 0 || jb.info.nchunks % 2 != 0) {  // the kernel takes chunks in pairs
            fprintf(stderr, "K = %d is not an even number of %d-input chunks\n", K, w4::bulk::CHUNK);
            return 2;
        }
        CK(cudaMalloc(&y_product[j], sizeof(float) * MMAX * N));
        CK(cudaMalloc(&y_chain[j], sizeof(float) * MMAX * N));
        CK(cudaMalloc(&y_single[j], sizeof(float) * MMAX * N));
    }
    Job *jobs_chain, *jobs_single;
    CK(cudaMalloc(&jobs_chain, sizeof(Job) * njobs));
    CK(cudaMalloc(&jobs_single, sizeof(Job) * njobs));
    for (int j = 0; j < njobs; ++j) jobs[j].info.y = y_chain[j];
    CK(cudaMemcpy(jobs_chain, jobs.data(), sizeof(Job) * njobs, cudaMemcpyHostToDevice));
    // the same jobs grouped by shape (layers of q|k|v, then of o, ...), for the chain of one shape
    Job* jobs_shape;
    CK(cudaMalloc(&jobs_shape, sizeof(Job) * njobs));
    for (int sh = 0; sh < 4; ++sh)
        for (int l = 0; l < layers; ++l)
            CK(cudaMemcpy(jobs_shape + sh * layers + l, &jobs[4 * l + sh], sizeof(Job), cudaMemcpyHostToDevice));
    // a layer's GEMVs in the order that runs them without another kernel between (o, gate|up, down, then the next
    // layer's q|k|v; RoPE and attention come before o), for chains of one layer each
    const int layer_order[4] = {1, 2, 3, 0};
    Job* jobs_layer;
    CK(cudaMalloc(&jobs_layer, sizeof(Job) * njobs));
    for (int l = 0; l < layers; ++l)
        for (int i = 0; i < 4; ++i)
            CK(cudaMemcpy(jobs_layer + 4 * l + i, &jobs[4 * l + layer_order[i]], sizeof(Job), cudaMemcpyHostToDevice));
    for (int j = 0; j < njobs; ++j) jobs[j].info.y = y_single[j];
    CK(cudaMemcpy(jobs_single, jobs.data(), sizeof(Job) * njobs, cudaMemcpyHostToDevice));
    unsigned *done, *sink;
    int* smids;
    CK(cudaMalloc(&smids, sizeof(int) * 4 * prop.multiProcessorCount));
    unsigned* slots;  // chain_kernel's rank counters (zeroed again before each M: its CTAs per SM may change)
    CK(cudaMalloc(&slots, sizeof(unsigned) * 2049));
    CK(cudaMemset(slots, 0, sizeof(unsigned) * 2049));
    CK(cudaMalloc(&done, sizeof(unsigned) * njobs));
    CK(cudaMalloc(&sink, sizeof(unsigned)));
    CK(cudaStreamSynchronize(st));

    const double read_ms = time_graph(st, [&] { read_words<<<4 * prop.multiProcessorCount, 1024, 0, st>>>(
                                                   reinterpret_cast<const uint4*>(arena), total / 16, sink); });
    printf("chain: %d layers, %d GEMVs (q|k|v, o, gate|up, down), %.1f MB of weights and scales\n", layers, njobs,
           wbytes_total / 1e6);
    printf("read: %.3f ms (%.0f GB/s), the time of the bytes at the HBM read rate\n", read_ms,
           wbytes_total / read_ms / 1e6);

    for (const int M : ms_list) {
        using RL = w4::bulk::Layout<2, chain::NT, 2>;  // (WSTAGE and XPITCH do not depend on the depth)
        auto ring_bytes = [&](int r) { return (size_t)w4::bulk::BARRIERS + r * (RL::WSTAGE + (size_t)M * RL::XPITCH); };
        // the ring: CHAIN_RING, else 3 chunks where two CTAs fit on an SM (calls 6-7: 1-2 % faster than 4 at M <= 4)
        int R = getenv("CHAIN_RING") ? atoi(getenv("CHAIN_RING")) : 0;
        if (R < 2 || R > 4) {
            R = 2;
            for (int r = 3; r > 2 && R == 2; --r)
                if (2 * (ring_bytes(r) + sizeof(chain::Info) * njobs + sizeof(float) * w4::WK * chain::NT * 128 + 1024 +
                         64) <= 228 * 1024)
                    R = r;
        }
        const int variant = getenv("CHAIN_V") ? atoi(getenv("CHAIN_V")) : 7;
        if (variant == 15) R = 3;  // its one build
        const size_t ring_smem = ring_bytes(R);
        CK(cudaMemset(slots, 0, sizeof(unsigned) * 2049));
        auto smem_for = [&](int n) { return ring_smem + sizeof(chain::Info) * n; };
        const size_t smem = smem_for(njobs);
        const int want = getenv("CHAIN_PER_SM") ? atoi(getenv("CHAIN_PER_SM")) : 2;
        auto kernel = variant == 15 ? chain::chain_kernel<3, 15>
                      : R == 4 ? (variant == 3 ? chain::chain_kernel<4, 3> : chain::chain_kernel<4, 7>)
                      : R == 3 ? (variant == 3 ? chain::chain_kernel<3, 3> : chain::chain_kernel<3, 7>)
                               : (variant == 3 ? chain::chain_kernel<2, 3> : chain::chain_kernel<2, 7>);
        CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
        int per_sm = 0;
        CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, w4::bulk::THREADS, smem));
        per_sm = std::min(per_sm, want);
        const int G = per_sm * prop.multiProcessorCount, nsm = prop.multiProcessorCount;
        auto product = [&] {
            for (int j = 0; j < njobs; ++j) {
                const chain::Info& jb = jobs[j].info;
                const uint8_t* wp = arena + off[j];
                CQ(qspec_w4a16_gemm(jb.x, jb.K, wp, jb.ws, y_product[j], jb.N, M, jb.N, jb.K, 128, 0, QSPEC_TOKENS_ROW,
                                    reinterpret_cast<qspec_stream_t>(st)));
            }
        };
        auto single = [&] {
            CK(cudaMemsetAsync(done, 0, sizeof(unsigned) * njobs, st));
            for (int j = 0; j < njobs; ++j) {
                const int ctas = std::min(G, jobs[j].info.tiles);
                kernel<<<dim3(1, ctas), w4::bulk::THREADS, smem_for(1), st>>>(jobs[j].wmap, jobs_single, j, 1, M, done,
                                                                               nullptr, slots, 0, 1);
            }
        };
        auto persistent = [&] {
            CK(cudaMemsetAsync(done, 0, sizeof(unsigned) * njobs, st));
            kernel<<<dim3(1, G), w4::bulk::THREADS, smem, st>>>(jobs[0].wmap, jobs_chain, 0, njobs, M, done, smids, slots,
                                                                 nsm, per_sm);
        };
        const double t_product = time_graph(st, product), t_single = time_graph(st, single),
                     t_chain = time_graph(st, persistent);
        CK(cudaStreamSynchronize(st));
        CK(cudaGetLastError());
        {  // where the persistent grid's CTAs ran: the SMs of the first 128 places (o's and down's tiles)
            std::vector<int> sm(G);
            CK(cudaMemcpy(sm.data(), smids, sizeof(int) * G, cudaMemcpyDeviceToHost));
            std::vector<int> per(1024, 0), per128(1024, 0);
            for (int b = 0; b < G; ++b) ++per[sm[b] & 1023];
            for (int b = 0; b < std::min(G, 128); ++b) ++per128[sm[b] & 1023];
            printf("census: CTAs per SM at most %d; places 0-127 on %ld SMs, at most %d on one\n",
                   *std::max_element(per.begin(), per.end()),
                   (long)std::count_if(per128.begin(), per128.end(), [](int c) { return c > 0; }),
                   *std::max_element(per128.begin(), per128.end()));
        }
        // bits: every output of both kernels against the library's
        long diff_chain = 0, diff_single = 0, outputs = 0;
        for (int j = 0; j < njobs; ++j) {
            const size_t n = (size_t)M * jobs[j].info.N;
            std::vector<float> a(n), b(n), c(n);
            CK(cudaMemcpy(a.data(), y_product[j], n * 4, cudaMemcpyDeviceToHost));
            CK(cudaMemcpy(b.data(), y_chain[j], n * 4, cudaMemcpyDeviceToHost));
            CK(cudaMemcpy(c.data(), y_single[j], n * 4, cudaMemcpyDeviceToHost));
            for (size_t i = 0; i < n; ++i) {
                diff_chain += memcmp(&a[i], &b[i], 4) != 0;
                diff_single += memcmp(&a[i], &c[i], 4) != 0;
            }
            outputs += n;
        }
        printf("M=%d: product %.3f ms (%.0f GB/s, %.1f %% of read) | per-gemv %.3f ms (%.1f %%) | chain %.3f ms "
               "(%.1f %%; %d CTAs, %d per SM, ring %d) | chain/product %.3f | bits: chain %ld, per-gemv %ld of %ld outputs "
               "differ from product\n",
               M, t_product, wbytes_total / t_product / 1e6, 100 * read_ms / t_product, t_single,
               100 * read_ms / t_single, t_chain, 100 * read_ms / t_chain, G, per_sm, R, t_chain / t_product, diff_chain,
               diff_single, outputs);
        printf("csv,chain,%d,%d,%.4f,%.4f,%.4f,%.4f,%ld,%ld\n", M, layers, read_ms, t_product, t_single, t_chain,
               diff_chain, diff_single);
        // chains of one layer (o, gate|up, down, q|k|v), one launch per layer: what a kernel that stops at each
        // layer's attention could have, against the product's four launches in the same order
        {
            const double tp = time_graph(st, [&] {
                for (int l = 0; l < layers; ++l)
                    for (int i = 0; i < 4; ++i) {
                        const int j = 4 * l + layer_order[i];
                        const chain::Info& jb = jobs[j].info;
                        CQ(qspec_w4a16_gemm(jb.x, jb.K, arena + off[j], jb.ws, y_product[j], jb.N, M, jb.N, jb.K, 128,
                                            0, QSPEC_TOKENS_ROW, reinterpret_cast<qspec_stream_t>(st)));
                    }
            });
            const double tl = time_graph(st, [&] {
                CK(cudaMemsetAsync(done, 0, sizeof(unsigned) * njobs, st));
                for (int l = 0; l < layers; ++l) {
                    kernel<<<dim3(1, G), w4::bulk::THREADS, smem_for(4), st>>>(jobs[4 * l + 1].wmap, jobs_layer, 4 * l,
                                                                               4, M, done, nullptr, slots, nsm, per_sm);
                }
            });
            printf("  layers: product %.3f ms | chains of one layer %.3f ms (%.3f) | one chain %.3f ms\n", tp, tl,
                   tl / tp, t_chain);
        }
        // per shape, over all layers: the product, this kernel once per GEMV, and the chain of that shape alone
        for (int sh = 0; sh < 4; ++sh) {
            const double t = time_graph(st, [&] {
                for (int j = sh; j < njobs; j += 4) {
                    const chain::Info& jb = jobs[j].info;
                    CQ(qspec_w4a16_gemm(jb.x, jb.K, arena + off[j], jb.ws, y_product[j], jb.N, M, jb.N, jb.K, 128, 0,
                                        QSPEC_TOKENS_ROW,
                                        reinterpret_cast<qspec_stream_t>(st)));
                }
            });
            const double t1 = time_graph(st, [&] {
                CK(cudaMemsetAsync(done, 0, sizeof(unsigned) * njobs, st));
                for (int l = 0; l < layers; ++l)
                    kernel<<<dim3(1, std::min(G, jobs[sh].info.tiles)), w4::bulk::THREADS, smem_for(1), st>>>(
                        jobs[4 * l + sh].wmap, jobs_shape, sh * layers + l, 1, M, done, nullptr, slots, 0, 1);
            });
            const double tc = time_graph(st, [&] {
                CK(cudaMemsetAsync(done, 0, sizeof(unsigned) * njobs, st));
                kernel<<<dim3(1, G), w4::bulk::THREADS, smem_for(layers), st>>>(jobs[sh].wmap, jobs_shape, sh * layers,
                                                                                 layers, M, done, nullptr, slots, nsm, per_sm);
            });
            printf("  %-8s x%d, us each: product %.2f | per-gemv %.2f | chain %.2f | read %.2f\n", names[sh], layers,
                   1000 * t / layers, 1000 * t1 / layers, 1000 * tc / layers,
                   1000 * read_ms * ((double)shapes[sh][0] * shapes[sh][1] / 2 + (double)shapes[sh][0] * shapes[sh][1] / 64) /
                       wbytes_total);
        }
    }
    return 0;
}
