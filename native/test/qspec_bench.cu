// Benchmark of the INT4 GEMMs at Llama-3-8B shapes against a measured roofline and cuBLAS FP16.
// Each point: a CUDA graph of LAUNCHES back-to-back calls that rotate over weight copies (so the
// weights come from HBM, not L2), replayed REPS times after warm-up; median replay / LAUNCHES.
// Prints CSV lines (prefix "csv,") and a markdown table. Other modes (first argument): `profile` (each
// GEMM once, for Nsight Compute), `sampling` (the sampling kernel alone), `sweep` (one-token GEMVs
// against K and N, weights from HBM and from L2), `attention` (qspec_attention at Llama-3-8B's heads),
// `rope-attention` (the fused RoPE + attention against the two kernels it replaces), `epilogues` (the residual-adding
// GEMVs with the next RMSNorm in their last CTA, and W4A16's gate|up GEMV with the SwiGLU, against the GEMV and the
// kernel each replaces), `heads` (the GEMVs that normalise their own input against the norm kernel and the GEMV).
#include <cublas_v2.h>
#include <algorithm>
#include <functional>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include "bench_data.cuh"
#include "common.h"

static const int LAUNCHES = 40, REPS = 15;

// Reads rows of 2048 bytes (K = 4096 nibbles) with the decode GEMVs' load pattern and nothing else: a
// block takes 16 rows, warp w steps w, w + 8, ... of 64 bytes, thread (g, t) the 16 bytes at 16t of
// rows g and g + 8, all of a warp's loads in flight at once. What that pattern alone can stream.
__global__ void read_gemv_pattern(const uint8_t* __restrict__ w, unsigned* sink) {
    extern __shared__ unsigned occupancy_limiter[];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const uint8_t* r0 = w + ((size_t)blockIdx.x * 16 + g) * 2048 + 16 * t;
    uint4 v[4][2];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        v[k][0] = __ldcs(reinterpret_cast<const uint4*>(r0 + (warp + 8 * k) * 64));
        v[k][1] = __ldcs(reinterpret_cast<const uint4*>(r0 + 8 * 2048 + (warp + 8 * k) * 64));
    }
    unsigned acc = 0;
#pragma unroll
    for (int k = 0; k < 4; ++k) acc ^= v[k][0].x ^ v[k][0].w ^ v[k][1].y ^ v[k][1].z;
    if (acc == 0x9e3779b9u) { occupancy_limiter[0] = acc; *sink = occupancy_limiter[0]; }
}

// The items of an environment list such as "1,2,4" (sep ',') or "4096,4096,1;4096,14336,1" (sep ';').
static std::vector<std::string> split(const char* list, char sep) {
    std::vector<std::string> items;
    for (const char* p = list;;) {
        const char* e = strchr(p, sep);
        items.emplace_back(p, e ? (size_t)(e - p) : strlen(p));
        if (!e) return items;
        p = e + 1;
    }
}

// Copies of one random INT4 matrix [N, K] (group 128) in an arena of device memory, each copy's fp16 scales right
// after its weights, for calls that rotate over them (call i reads copy i % used), so that the weights come from
// HBM and not from L2. Up to LAUNCHES copies are used (a graph's calls); their scales are small positive fp16.
struct WeightCopies {
    const uint8_t* base;
    size_t wbytes, sbytes, stride;
    int used;
    WeightCopies(const Dev<uint8_t>& arena, int N, int K, cudaStream_t st, uint32_t seed = 7)
        : base(arena.p), wbytes((size_t)N * K / 2), sbytes((size_t)N * (K / 128) * 2),
          stride((wbytes + sbytes + 255) / 256 * 256),
          used((int)std::min<size_t>(LAUNCHES, std::max<size_t>(1, arena.n / stride))) {
        for (int c = 0; c < used; ++c)
            fill_f16<<<1024, 256, 0, st>>>(reinterpret_cast<__half*>(arena.p + c * stride + wbytes), sbytes / 2, 0.005f,
                                           0.05f, seed + c);
    }
    const uint8_t* packed(int i) const { return base + (size_t)(i % used) * stride; }
    const __half* scales(int i) const { return reinterpret_cast<const __half*>(packed(i) + wbytes); }
};

// Median seconds per call of `call(i)` (i = launch index, for rotating buffers). Calls are captured
// into a graph (no launch gaps); if capture fails (a library that cannot be captured), the calls are
// issued directly instead.
static double time_graph(cudaStream_t st, const std::function<void(int)>& call) {
    call(0);  // warm-up outside capture: module load, library handles and workspaces
    CK(cudaStreamSynchronize(st));
    cudaGraph_t g = nullptr;
    cudaGraphExec_t ge = nullptr;
    bool graph = cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal) == cudaSuccess;
    if (graph) {
        for (int i = 0; i < LAUNCHES; ++i) call(i);
        graph = cudaStreamEndCapture(st, &g) == cudaSuccess && cudaGraphInstantiate(&ge, g, 0) == cudaSuccess;
    }
    if (!graph) {
        (void)cudaGetLastError();
        fprintf(stderr, "note: graph capture failed, timing direct launches\n");
    }
    auto run = [&] {
        if (graph) CK(cudaGraphLaunch(ge, st));
        else for (int i = 0; i < LAUNCHES; ++i) call(i);
    };
    for (int w = 0; w < 3; ++w) run();
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    std::vector<float> ms(REPS);
    for (int r = 0; r < REPS; ++r) {
        CK(cudaEventRecord(a, st));
        run();
        CK(cudaEventRecord(b, st));
        CK(cudaEventSynchronize(b));
        CK(cudaEventElapsedTime(&ms[r], a, b));
    }
    std::sort(ms.begin(), ms.end());
    if (ge) CK(cudaGraphExecDestroy(ge));
    if (g) CK(cudaGraphDestroy(g));
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    return ms[REPS / 2] * 1e-3 / LAUNCHES;
}

// `qspec_bench profile`: each GEMM once per shape, no graphs, for Nsight Compute (ncu -k regex:w4).
// QSPEC_PROFILE=K,N,M;K,N,M...: these cases instead of the default ones.
static int profile(cudaStream_t st) {
    struct Case { int K, N, M; };
    std::vector<Case> cases = {{4096, 4096, 1}, {4096, 4096, 16}, {4096, 14336, 1}, {4096, 14336, 16},
                               {14336, 4096, 1}, {4096, 14336, 64}, {4096, 14336, 256}, {14336, 4096, 256}};
    if (const char* v = getenv("QSPEC_PROFILE")) {
        cases.clear();
        for (const std::string& item : split(v, ';')) {
            Case c{};
            if (sscanf(item.c_str(), "%d,%d,%d", &c.K, &c.N, &c.M) == 3 && c.K > 0 && c.N > 0 && c.M >= 1 && c.M <= 256)
                cases.push_back(c);
        }
    }
    const int group = 128;
    size_t wmax = 0, kmax = 0, nmax = 0;
    for (const Case& c : cases) {
        wmax = std::max(wmax, (size_t)c.N * c.K / 2 + (size_t)c.N * (c.K / group) * 2 + 256);
        kmax = std::max(kmax, (size_t)c.K);
        nmax = std::max(nmax, (size_t)c.N);
    }
    Dev<uint8_t> w(wmax);
    Dev<__half> x(256 * kmax);
    Dev<int8_t> xq(256 * kmax);
    Dev<float> xs(256 * kmax / 32), y(256 * nmax);
    fill_bytes<<<4096, 256, 0, st>>>(w.p, w.n, 4);
    fill_f16<<<4096, 256, 0, st>>>(x.p, x.n, -2, 2, 6);
    for (const Case& c : cases) {
        const size_t wbytes = (size_t)c.N * c.K / 2;
        fill_f16<<<1024, 256, 0, st>>>(reinterpret_cast<__half*>(w.p + wbytes), (size_t)c.N * (c.K / group), 0.005f, 0.05f, 7);
        CQ(qspec_quantize_activations(x.p, c.K, c.M, c.K, group, 8, xq.p, xs.p, QSPEC_TOKENS_ROW, st));
        CQ(qspec_w4a16_gemm(x.p, c.K, w.p, w.p + wbytes, y.p, c.N, c.M, c.N, c.K, group, 0, QSPEC_TOKENS_ROW, st));
        CQ(qspec_w4ax_gemm(xq.p, xs.p, w.p, w.p + wbytes, y.p, c.N, c.M, c.N, c.K, group, 8, 0, QSPEC_TOKENS_ROW, st));
        CK(cudaStreamSynchronize(st));
        printf("profiled K=%d N=%d M=%d\n", c.K, c.N, c.M);
    }
    return 0;
}

// `qspec_bench sweep`: one-token GEMV time against K and N, weights from HBM (rotating copies) and
// from L2 (one copy), to separate a kernel's fixed cost from its cost per step and per row tile.
static int sweep_experiment(cudaStream_t st) {
    const int group = 128;
    Dev<uint8_t> w4(1200ull << 20);
    Dev<__half> x((size_t)16384);
    Dev<int8_t> xq((size_t)16384);
    Dev<float> xs((size_t)16384 / 32), y((size_t)16384 * 8);
    fill_bytes<<<4096, 256, 0, st>>>(w4.p, w4.n, 4);
    fill_f16<<<64, 256, 0, st>>>(x.p, x.n, -2, 2, 6);
    CK(cudaStreamSynchronize(st));
    printf("sw,K,N,kernel,cold_us,hot_us,MB\n");
    for (int N : {1024, 4096, 16384})
        for (int K : {1024, 2048, 4096, 8192, 16384}) {
            const WeightCopies w(w4, N, K, st);
            CQ(qspec_quantize_activations(x.p, K, 1, K, group, 8, xq.p, xs.p, QSPEC_TOKENS_ROW, st));
            for (int kind = 0; kind < 2; ++kind) {
                auto gemm = [&](int i) {
                    if (kind == 0) CQ(qspec_w4a16_gemm(x.p, K, w.packed(i), w.scales(i), y.p, N, 1, N, K, group, 0,
                                                       QSPEC_TOKENS_ROW, st));
                    else CQ(qspec_w4ax_gemm(xq.p, xs.p, w.packed(i), w.scales(i), y.p, N, 1, N, K, group, 8, 0,
                                            QSPEC_TOKENS_ROW, st));
                };
                const double cold = time_graph(st, gemm), hot = time_graph(st, [&](int) { gemm(0); });
                printf("sw,%d,%d,%s,%.2f,%.2f,%.2f\n", K, N, kind ? "w4a8" : "w4a16", cold * 1e6, hot * 1e6,
                       (w.wbytes + w.sbytes) / 1048576.0);
                fflush(stdout);
            }
        }
    return 0;
}

// A pass over a paged cache at Llama-3-8B's heads (32 query heads, 8 KV heads, head_dim 128): S sequences of Q
// tokens each at positions first .. first + Q - 1, a context of `ctx` positions in blocks of 16 scattered over the
// pool, random K, V and q.
struct PagedPass {
    static constexpr int heads = 32, kv = 8, hd = 128, bs = 16;
    int T, max_blocks;
    Dev<__half> kp, vp, out;
    Dev<float> q;
    Dev<int32_t> seq, pos, table;
    static std::vector<int32_t> scattered(size_t n) {
        std::vector<int32_t> t(n);
        for (size_t b = 0; b < n; ++b) t[b] = (int32_t)((b * 7919) % n);
        return t;
    }
    static std::vector<int32_t> of(int T, const std::function<int32_t(int)>& f) {
        std::vector<int32_t> v(T);
        for (int t = 0; t < T; ++t) v[t] = f(t);
        return v;
    }
    PagedPass(int S, int Q, int ctx, int first, cudaStream_t st)
        : T(S * Q), max_blocks(ctx / bs), kp((size_t)S * max_blocks * bs * kv * hd), vp(kp.n),
          out((size_t)T * heads * hd), q((size_t)T * heads * hd), seq(of(T, [&](int t) { return t / Q; })),
          pos(of(T, [&](int t) { return first + t % Q; })), table(scattered((size_t)S * max_blocks)) {
        fill_f16<<<1024, 256, 0, st>>>(kp.p, kp.n, -1, 1, 11);
        fill_f16<<<1024, 256, 0, st>>>(vp.p, vp.n, -1, 1, 12);
        fill_f32<<<1024, 256, 0, st>>>(q.p, q.n, -1, 1, 13);
    }
    void attention(void* ws, size_t wsb, cudaStream_t st) const {
        CQ(qspec_attention(q.p, kp.p, vp.p, seq.p, pos.p, table.p, max_blocks, bs, T, heads, kv, hd, ws, wsb, out.p, st));
    }
    void attention_pass(int run, int min_context, int max_context, void* ws, size_t wsb, cudaStream_t st) const {
        CQ(qspec_attention_pass(q.p, kp.p, vp.p, seq.p, pos.p, table.p, max_blocks, bs, T, heads, kv, hd, run,
                                min_context, max_context, ws, wsb, out.p, st));
    }
    void attention_runs(int run, void* ws, size_t wsb, cudaStream_t st) const {
        CQ(qspec_attention_runs(q.p, kp.p, vp.p, seq.p, pos.p, table.p, max_blocks, bs, T, heads, kv, hd, run, ws, wsb,
                                out.p, st));
    }
};

// `qspec_bench attention`: attention at Llama-3-8B's heads, S sequences of one query each (decode) or of 4 queries (a
// verify pass at gamma = 3), contexts of 128 ... 8192 positions: the row kernels (QSPEC_ATTENTION_DECODE_TILES=0), the
// library's default through qspec_attention_pass with the pass's bounds (the decode tiles from 512 positions, decode
// groups on the one-token tile; the Java runner's call), the same through qspec_attention (no bounds: both kinds of
// kernel launched where the table reaches the threshold), the decode tiles for every token (=all), and the last two
// with the 16-row tile for decode groups too (QSPEC_ATTENTION_DECODE_TILES_ONE=0). GB/s counts the K and V bytes
// read, at the default. Then prefill-sized passes (a prompt of P tokens of one sequence, or of 4), one head a block and head tiles
// (the 4 q heads of a kv head sharing its K and V loads).
static int attention_experiment(cudaStream_t st) {
    printf("attn,sequences,queries_per_seq,context,rows_us,default_us,kv_GB_per_s,unbounded_us,tiles_all_us,"
           "default_16row_us,tiles_all_16row_us\n");
    // QSPEC_BENCH_PREFILL_ONLY=1: the prefill passes alone; QSPEC_BENCH_CONTEXTS=256,384: these contexts instead
    std::vector<int> contexts{128, 512, 1024, 2048, 8192};
    if (const char* v = getenv("QSPEC_BENCH_CONTEXTS")) {
        contexts.clear();
        for (const std::string& item : split(v, ','))
            if (const int c = atoi(item.c_str()); c >= 8 && c <= 32768) contexts.push_back(c);
    }
    for (int ctx : getenv("QSPEC_BENCH_PREFILL_ONLY") ? std::vector<int>{} : contexts)
        for (int S : {1, 8, 16, 32})
            for (int Q : {1, 4}) {
                if (const char* cell = getenv("QSPEC_BENCH_CELL")) {  // "S,Q,context": that cell alone (profiles)
                    char want[48];
                    snprintf(want, sizeof want, "%d,%d,%d", S, Q, ctx);
                    if (strcmp(cell, want) != 0) continue;
                }
                const PagedPass pass(S, Q, ctx, ctx - Q, st);
                const size_t wsb = qspec_attention_workspace_bytes(pass.T, PagedPass::heads, PagedPass::hd, ctx);
                Dev<uint8_t> ws(wsb);
                auto timed = [&](const char* tiles, auto call) {
                    const ScopedEnv env("QSPEC_ATTENTION_DECODE_TILES", tiles);
                    return 1e6 * time_graph(st, [&](int) { call(); });
                };
                const double rows = timed("0", [&] { pass.attention(ws.p, wsb, st); });
                const double bounded = timed(nullptr, [&] { pass.attention_pass(Q, ctx - Q + 1, ctx, ws.p, wsb, st); });
                const double unbounded = timed(nullptr, [&] { pass.attention(ws.p, wsb, st); });
                const double all = timed("all", [&] { pass.attention_pass(Q, ctx - Q + 1, ctx, ws.p, wsb, st); });
                // the 16-row tile for the groups of one token too (decode passes; verify runs take it anyway)
                double bounded_16, all_16;
                {
                    const ScopedEnv sixteen("QSPEC_ATTENTION_DECODE_TILES_ONE", "0");
                    bounded_16 = timed(nullptr, [&] { pass.attention_pass(Q, ctx - Q + 1, ctx, ws.p, wsb, st); });
                    all_16 = timed("all", [&] { pass.attention_pass(Q, ctx - Q + 1, ctx, ws.p, wsb, st); });
                }
                const double bytes = 2.0 * S * ctx * PagedPass::kv * PagedPass::hd * 2;
                printf("attn,%d,%d,%d,%.2f,%.2f,%.0f,%.2f,%.2f,%.2f,%.2f\n", S, Q, ctx, rows, bounded,
                       bytes / bounded / 1e3, unbounded, all, bounded_16, all_16);
                fflush(stdout);
            }
    if (getenv("QSPEC_BENCH_DECODE_ONLY")) return 0;  // =1: the decode and verify passes alone
    // the row kernels (prefill tiles off), then the prefill tiles: through qspec_attention (the row kernels launched
    // too, their blocks exiting) and through qspec_attention_runs (the tiles alone)
    printf("attn_prefill,sequences,prompt,one_head_us,head_tiles_us,query_tiles_us,prefill_tiles_us,"
           "prefill_tiles_runs_us,prefill_tiles_3_blocks_us\n");
    for (int P : {512, 2048, 8192})
        for (int S : {1, 4}) {
            if (P == 8192 && S == 4) continue;
            const PagedPass pass(S, P, P, 0, st);
            double us[2], runs;
            {
                // the row kernels alone: the decode tiles would take the tokens of 512 positions or more
                const ScopedEnv off("QSPEC_ATTENTION_PREFILL_TILES", "0"), rows("QSPEC_ATTENTION_DECODE_TILES", "0");
                for (const char* tiles : {"0", "1"}) {
                    if (P == 8192) { us[*tiles - '0'] = 0; continue; }  // (seconds a point: the tiles only)
                    const ScopedEnv env("QSPEC_ATTENTION_HEAD_TILES", tiles);
                    us[*tiles - '0'] = 1e6 * time_graph(st, [&](int) { pass.attention(nullptr, 0, st); });
                }
                runs = P == 8192 ? 0 : 1e6 * time_graph(st, [&](int) { pass.attention_runs(P, nullptr, 0, st); });
            }
            const double tiles = 1e6 * time_graph(st, [&](int) { pass.attention(nullptr, 0, st); });
            const double tiles_runs = 1e6 * time_graph(st, [&](int) { pass.attention_runs(P, nullptr, 0, st); });
            double tiles3;
            {
                const ScopedEnv three("QSPEC_ATTENTION_TILES_BLOCKS", "3");
                tiles3 = 1e6 * time_graph(st, [&](int) { pass.attention_runs(P, nullptr, 0, st); });
            }
            printf("attn_prefill,%d,%d,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f\n", S, P, us[0], us[1], runs, tiles, tiles_runs,
                   tiles3);
            fflush(stdout);
        }
    return 0;
}

// `qspec_bench rope-attention`: the decode step's RoPE + KV write + attention as the two kernels
// (qspec_rope_write_kv, qspec_attention) and as the fused one (qspec_rope_attention), at Llama-3-8B's heads, S
// sequences of one token each, contexts of 128 ... 8192 positions in blocks of 16 scattered over the pool.
static int rope_attention_experiment(cudaStream_t st) {
    const ScopedEnv rows("QSPEC_ATTENTION_DECODE_TILES", "0");  // the fused kernel has the row kernels' arithmetic
    constexpr int heads = PagedPass::heads, kv = PagedPass::kv, hd = PagedPass::hd, bs = PagedPass::bs;
    constexpr int ld = (heads + 2 * kv) * hd;
    std::vector<float> inv_freq(hd / 2);
    for (int i = 0; i < hd / 2; ++i) inv_freq[i] = (float)std::pow(500000.0, -2.0 * i / hd);
    const Dev<float> inv(inv_freq);
    printf("rope_attn,sequences,context,two_kernels_us,fused_us\n");
    for (int ctx : {128, 512, 2048, 8192})
        for (int S : {1, 8, 32}) {
            const PagedPass pass(S, 1, ctx, ctx - 1, st);  // pass.q: the rotated q of the two-kernel path
            const int T = pass.T;
            Dev<float> qkv((size_t)T * ld);
            fill_f32<<<256, 256, 0, st>>>(qkv.p, qkv.n, -1, 1, 14);
            const size_t wsb = qspec_attention_workspace_bytes(T, heads, hd, ctx);
            Dev<uint8_t> ws(wsb);
            const double two = time_graph(st, [&](int) {
                CQ(qspec_rope_write_kv(qkv.p, qkv.p + heads * hd, qkv.p + (heads + kv) * hd, ld, pass.q.p, pass.kp.p,
                                       pass.vp.p, pass.seq.p, pass.pos.p, pass.table.p, pass.max_blocks, bs, T, heads,
                                       kv, hd, inv.p, 1, st));
                pass.attention(ws.p, wsb, st);
            });
            const double fused = time_graph(st, [&](int) {
                CQ(qspec_rope_attention(qkv.p, ld, pass.kp.p, pass.vp.p, pass.seq.p, pass.pos.p, pass.table.p,
                                        pass.max_blocks, bs, T, heads, kv, hd, inv.p, 1, ws.p, wsb, pass.out.p, st));
            });
            printf("rope_attn,%d,%d,%.2f,%.2f\n", S, ctx, two * 1e6, fused * 1e6);
            fflush(stdout);
        }
    return 0;
}

// `qspec_bench epilogues` (third part below: q|k|v with RoPE and the KV write), first part: the wo and down projections of a Llama-3-8B decode step with the next RMSNorm, as the
// accumulating GEMV followed by the norm kernel (qspec_w4a16_gemm + qspec_rmsnorm_f16, qspec_w4ax_gemm +
// qspec_rmsnorm_quantize) and as one launch (qspec_w4a16_gemm_add_rmsnorm, qspec_w4ax_gemm_add_rmsnorm_quantize),
// for M = 1-4; the weights rotate over enough copies to come from HBM.
static int epilogue_experiment(cudaStream_t st) {
    const int D = 4096;
    printf("norm_tail,gemm,K,M,two_kernels_us,fused_us\n");
    Dev<uint8_t> arena(512ull << 20);  // weight copies far past L2
    fill_bytes<<<4096, 256, 0, st>>>(arena.p, arena.n, 100);
    for (int K : {4096, 14336}) {
        const WeightCopies w(arena, D, K, st);
        Dev<__half> x((size_t)4 * K), normed((size_t)4 * D);
        Dev<int8_t> xq((size_t)4 * K), codes((size_t)4 * D);
        Dev<float> xs((size_t)4 * (K / 128)), scales((size_t)4 * (D / 128)), y((size_t)4 * D), gain(D);
        Dev<unsigned> ticket(std::vector<unsigned>(1, 0u));
        fill_f16<<<256, 256, 0, st>>>(x.p, x.n, -1, 1, 1);
        fill_bytes<<<256, 256, 0, st>>>(reinterpret_cast<uint8_t*>(xq.p), xq.n, 2);
        fill_f32<<<64, 256, 0, st>>>(xs.p, xs.n, 0.001f, 0.05f, 3);
        fill_f32<<<64, 256, 0, st>>>(y.p, y.n, -1, 1, 4);
        fill_f32<<<64, 256, 0, st>>>(gain.p, gain.n, 0.5f, 1.5f, 5);
        for (int M : {1, 2, 3, 4}) {
            const double a16_two = time_graph(st, [&](int i) {
                CQ(qspec_w4a16_gemm(x.p, K, w.packed(i), w.scales(i), y.p, D, M, D, K, 128, 1, QSPEC_TOKENS_ROW, st));
                CQ(qspec_rmsnorm_f16(y.p, gain.p, normed.p, M, D, 1e-5f, QSPEC_TOKENS_ROW, st));
            });
            const double a16_fused = time_graph(st, [&](int i) {
                CQ(qspec_w4a16_gemm_add_rmsnorm(x.p, K, w.packed(i), w.scales(i), y.p, M, D, K, 128, gain.p,
                                                1e-5f, normed.p, ticket.p, st));
            });
            const double a8_two = time_graph(st, [&](int i) {
                CQ(qspec_w4ax_gemm(xq.p, xs.p, w.packed(i), w.scales(i), y.p, D, M, D, K, 128, 8, 1,
                                   QSPEC_TOKENS_ROW, st));
                CQ(qspec_rmsnorm_quantize(y.p, gain.p, codes.p, scales.p, M, D, 128, 8, 1e-5f, QSPEC_TOKENS_ROW, st));
            });
            const double a8_fused = time_graph(st, [&](int i) {
                CQ(qspec_w4ax_gemm_add_rmsnorm_quantize(xq.p, xs.p, w.packed(i), w.scales(i), y.p, M, D, K,
                                                        128, 8, gain.p, 1e-5f, 128, codes.p, scales.p, ticket.p, st));
            });
            printf("norm_tail,w4a16,%d,%d,%.2f,%.2f\n", K, M, a16_two * 1e6, a16_fused * 1e6);
            printf("norm_tail,w4a8,%d,%d,%.2f,%.2f\n", K, M, a8_two * 1e6, a8_fused * 1e6);
            fflush(stdout);
        }
        const unsigned left = ticket.down()[0];
        if (left != 0) { printf("FAIL ticket left at %u\n", left); return 1; }
    }
    // second part: Llama-3-8B's gate|up projection (K = 4096, 2 x 14336 rows) and the SwiGLU, for M = 1-8
    const int K = 4096, H = 14336;
    const WeightCopies w(arena, 2 * H, K, st);
    Dev<__half> x((size_t)16 * K), out((size_t)8 * H);  // 16 tokens' rows for the third part
    Dev<float> gate_up((size_t)8 * 2 * H);
    fill_f16<<<256, 256, 0, st>>>(x.p, x.n, -1, 1, 6);
    printf("swiglu,gemm,K,M,two_kernels_us,fused_us\n");
    for (int M : {1, 2, 4, 8}) {
        const double two = time_graph(st, [&](int i) {
            CQ(qspec_w4a16_gemm(x.p, K, w.packed(i), w.scales(i), gate_up.p, 2 * H, M, 2 * H, K, 128, 0,
                                QSPEC_TOKENS_ROW, st));
            CQ(qspec_swiglu_f16(gate_up.p, gate_up.p + H, 2 * H, out.p, M, H, QSPEC_TOKENS_ROW, st));
        });
        const double fused = time_graph(st, [&](int i) {
            CQ(qspec_w4a16_gemm_swiglu(x.p, K, w.packed(i), w.scales(i), gate_up.p, M, H, K, 128, out.p,
                                       QSPEC_TOKENS_ROW, QSPEC_TOKENS_ROW, st));
        });
        printf("swiglu,w4a16,%d,%d,%.2f,%.2f\n", K, M, two * 1e6, fused * 1e6);
        fflush(stdout);
    }
    // third part: Llama-3-8B's q|k|v projection (32 heads and 8 kv heads of 128) and RoPE + the KV write into a paged
    // cache (positions 700 + m, one sequence per token), for M = 1-16 (9-16: the two-token-tile GEMVs, whose epilogue
    // runs with QSPEC_ROPE_EPILOGUE=16), W4A16 and the draft's A8
    {
        const int heads = 32, kv = 8, hd = 128, N = (heads + 2 * kv) * hd, bs = 16, blocks = 64, most = 16;
        const WeightCopies wq(arena, N, K, st);
        Dev<float> qkv((size_t)most * N), q_out((size_t)most * heads * hd), inv(std::vector<float>(hd / 2, 1e-3f));
        Dev<__half> kpool((size_t)most * blocks * bs * kv * hd), vpool((size_t)most * blocks * bs * kv * hd);
        Dev<int8_t> xq((size_t)most * K);
        Dev<float> xs((size_t)most * (K / 128));
        std::vector<int32_t> seq(most), pos(most), table(most * blocks);
        for (int m = 0; m < most; ++m) { seq[m] = m; pos[m] = 700 + m; }
        for (int i = 0; i < most * blocks; ++i) table[i] = i;
        Dev<int32_t> dseq(seq), dpos(pos), dtab(table);
        fill_bytes<<<256, 256, 0, st>>>(reinterpret_cast<uint8_t*>(xq.p), xq.n, 7);
        fill_f32<<<64, 256, 0, st>>>(xs.p, xs.n, 0.001f, 0.05f, 8);
        printf("rope_kv,gemm,K,M,two_kernels_us,fused_us\n");
        for (int M : {1, 2, 4, 8, 12, 16}) {
            auto rope = [&] {
                CQ(qspec_rope_write_kv(qkv.p, qkv.p + heads * hd, qkv.p + (heads + kv) * hd, N, q_out.p, kpool.p, vpool.p,
                                       dseq.p, dpos.p, dtab.p, blocks, bs, M, heads, kv, hd, inv.p, 0, st));
            };
            const double a16_two = time_graph(st, [&](int i) {
                CQ(qspec_w4a16_gemm(x.p, K, wq.packed(i), wq.scales(i), qkv.p, N, M, N, K, 128, 0, QSPEC_TOKENS_ROW,
                                    st));
                rope();
            });
            const double a16_fused = time_graph(st, [&](int i) {
                CQ(qspec_w4a16_gemm_rope_kv(x.p, K, wq.packed(i), wq.scales(i), qkv.p, M, K, 128, q_out.p, kpool.p,
                                            vpool.p, dseq.p, dpos.p, dtab.p, blocks, bs, heads, kv, hd, inv.p, 0, QSPEC_TOKENS_ROW, st));
            });
            const double a8_two = time_graph(st, [&](int i) {
                CQ(qspec_w4ax_gemm(xq.p, xs.p, wq.packed(i), wq.scales(i), qkv.p, N, M, N, K, 128, 8, 0,
                                   QSPEC_TOKENS_ROW, st));
                rope();
            });
            const double a8_fused = time_graph(st, [&](int i) {
                CQ(qspec_w4ax_gemm_rope_kv(xq.p, xs.p, wq.packed(i), wq.scales(i), qkv.p, M, K, 128, 8, q_out.p, kpool.p,
                                           vpool.p, dseq.p, dpos.p, dtab.p, blocks, bs, heads, kv, hd, inv.p, 0, QSPEC_TOKENS_ROW, st));
            });
            printf("rope_kv,w4a16,%d,%d,%.2f,%.2f\n", K, M, a16_two * 1e6, a16_fused * 1e6);
            printf("rope_kv,w4a8,%d,%d,%.2f,%.2f\n", K, M, a8_two * 1e6, a8_fused * 1e6);
            fflush(stdout);
        }
    }
    return 0;
}

// `qspec_bench heads`: the GEMVs after an RMSNorm in a Llama-3-8B decode step (q|k|v, gate|up with the SwiGLU,
// lm_head), as the norm kernel followed by the GEMV (qspec_rmsnorm_f16 + qspec_w4a16_gemm or _swiglu) and as one launch
// whose CTAs normalise their own input (qspec_rmsnorm_w4a16_gemm, _swiglu), for M = 1-4; then the draft's (A8:
// qspec_rmsnorm_quantize + qspec_w4ax_gemm against qspec_rmsnorm_quantize_w4ax_gemm; gate|up without the SwiGLU). The
// weights rotate over enough copies to come from HBM (lm_head's 263 MB: one copy, past L2 anyway).
static int head_experiment(cudaStream_t st) {
    const int K = 4096;
    printf("norm_head,gemm,N,M,two_kernels_us,fused_us\n");
    Dev<uint8_t> arena(768ull << 20);
    fill_bytes<<<4096, 256, 0, st>>>(arena.p, arena.n, 101);
    Dev<float> r((size_t)4 * K), gain(K);
    Dev<__half> normed((size_t)4 * K);
    Dev<int8_t> codes((size_t)4 * K);
    Dev<float> scales((size_t)4 * (K / 128));
    fill_f32<<<64, 256, 0, st>>>(r.p, r.n, -3, 3, 8);
    fill_f32<<<64, 256, 0, st>>>(gain.p, gain.n, 0.5f, 1.5f, 9);
    for (const int N : {6144, 2 * 14336, 128256}) {
        const bool swiglu = N == 2 * 14336;
        const WeightCopies w(arena, N, K, st);
        Dev<float> y((size_t)4 * N);
        Dev<__half> out((size_t)4 * (N / 2));
        for (int M : {1, 2, 3, 4}) {
            const double two = time_graph(st, [&](int i) {
                CQ(qspec_rmsnorm_f16(r.p, gain.p, normed.p, M, K, 1e-5f, QSPEC_TOKENS_ROW, st));
                if (swiglu) CQ(qspec_w4a16_gemm_swiglu(normed.p, K, w.packed(i), w.scales(i), y.p, M, N / 2, K, 128,
                                                       out.p, QSPEC_TOKENS_ROW, QSPEC_TOKENS_ROW, st));
                else CQ(qspec_w4a16_gemm(normed.p, K, w.packed(i), w.scales(i), y.p, N, M, N, K, 128, 0,
                                         QSPEC_TOKENS_ROW, st));
            });
            const double fused = time_graph(st, [&](int i) {
                if (swiglu) CQ(qspec_rmsnorm_w4a16_gemm_swiglu(r.p, gain.p, 1e-5f, normed.p, w.packed(i), w.scales(i),
                                                               y.p, M, N / 2, K, 128, out.p, st));
                else CQ(qspec_rmsnorm_w4a16_gemm(r.p, gain.p, 1e-5f, normed.p, w.packed(i), w.scales(i), y.p, N, M, N,
                                                 K, 128, st));
            });
            printf("norm_head,w4a16%s,%d,%d,%.2f,%.2f\n", swiglu ? "_swiglu" : "", N, M, two * 1e6, fused * 1e6);
            const double a8_two = time_graph(st, [&](int i) {
                CQ(qspec_rmsnorm_quantize(r.p, gain.p, codes.p, scales.p, M, K, 128, 8, 1e-5f, QSPEC_TOKENS_ROW, st));
                CQ(qspec_w4ax_gemm(codes.p, scales.p, w.packed(i), w.scales(i), y.p, N, M, N, K, 128, 8, 0,
                                   QSPEC_TOKENS_ROW, st));
            });
            const double a8_fused = time_graph(st, [&](int i) {
                CQ(qspec_rmsnorm_quantize_w4ax_gemm(r.p, gain.p, 1e-5f, codes.p, scales.p, w.packed(i), w.scales(i), y.p,
                                                    N, M, N, K, 128, 8, st));
            });
            printf("norm_head,w4a8,%d,%d,%.2f,%.2f\n", N, M, a8_two * 1e6, a8_fused * 1e6);
            fflush(stdout);
        }
    }
    return 0;
}

int main(int argc, char** argv) {
    // the modes besides the full benchmark, each on a stream of its own
    const struct {
        const char* name;
        int (*run)(cudaStream_t);
    } modes[] = {{"profile", profile},
                 {"attention", attention_experiment},
                 {"rope-attention", rope_attention_experiment},
                 {"epilogues", epilogue_experiment},
                 {"heads", head_experiment},
                 {"sweep", sweep_experiment}};
    for (const auto& mode : modes)
        if (argc > 1 && std::string(argv[1]) == mode.name) {
            cudaStream_t st;
            CK(cudaStreamCreate(&st));
            return mode.run(st);
        }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    cudaStream_t st;
    CK(cudaStreamCreate(&st));
    cublasHandle_t cb;
    if (cublasCreate(&cb) != CUBLAS_STATUS_SUCCESS) { fprintf(stderr, "cublasCreate failed\n"); return 2; }
    cublasSetStream(cb, st);
    printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);

    // Roofline 1: device-to-device copy bandwidth (bytes read + written).
    const size_t copy_bytes = 1ull << 30;
    Dev<uint8_t> c0(copy_bytes), c1(copy_bytes);
    fill_bytes<<<4096, 256, 0, st>>>(c0.p, copy_bytes, 1);
    const double t_copy = time_graph(st, [&](int) { CK(cudaMemcpyAsync(c1.p, c0.p, copy_bytes, cudaMemcpyDeviceToDevice, st)); });
    const double copy_rate = 2.0 * copy_bytes / t_copy;
    printf("roofline: D2D copy %.0f GB/s (read+write, cudaMemcpyAsync)\n", copy_rate / 1e9);
    // Roofline 1b: the HBM read rate of a streaming kernel, the best of a few grid shapes. The GEMMs only
    // read their weights, so this is the ceiling their %HBM is measured against.
    Dev<unsigned> sink(1);
    double t_read = 1e30;
    int best_blocks = 0, best_threads = 0;
    for (int blocks_per_sm : {2, 4, 8}) {
        for (int threads : {256, 512, 1024}) {
            if (blocks_per_sm * threads > 2048) continue;
            const int blocks = prop.multiProcessorCount * blocks_per_sm;
            const double t = time_graph(st, [&](int) {
                read_words<<<blocks, threads, 0, st>>>(reinterpret_cast<const uint4*>(c0.p), copy_bytes / 16, sink.p);
            });
            if (t < t_read) t_read = t, best_blocks = blocks, best_threads = threads;
        }
    }
    const double hbm = copy_bytes / t_read;
    printf("roofline: HBM read %.0f GB/s (streaming kernel, %d blocks x %d threads; the %%HBM denominator)\n", hbm / 1e9,
           best_blocks, best_threads);
    // The decode GEMVs' load pattern alone, at free occupancy and at the W4A16 kernel's 3 CTAs per SM.
    for (size_t smem : {(size_t)0, (size_t)70 * 1024}) {
        CK(cudaFuncSetAttribute(read_gemv_pattern, cudaFuncAttributeMaxDynamicSharedMemorySize, 70 * 1024));
        const double t = time_graph(st, [&](int) {
            read_gemv_pattern<<<(unsigned)(copy_bytes / (16 * 2048)), 256, smem, st>>>(c0.p, sink.p);
        });
        printf("pattern: the decode GEMV load pattern alone reads %.0f GB/s (%s)\n", copy_bytes / t / 1e9,
               smem ? "3 CTAs per SM, as W4A16's kernel" : "free occupancy");
    }

    // Roofline 2: cuBLAS 8192^3 fp16 (fp32 accumulate) and int8 (int32 accumulate) GEMM rates.
    const int R = 8192;
    Dev<__half> ra((size_t)R * R), rb((size_t)R * R);
    Dev<float> rc((size_t)R * R);
    fill_f16<<<4096, 256, 0, st>>>(ra.p, (size_t)R * R, -1, 1, 2);
    fill_f16<<<4096, 256, 0, st>>>(rb.p, (size_t)R * R, -1, 1, 3);
    const float one = 1.f, zero = 0.f;
    const int ione = 1, izero = 0;
    const double t_h = time_graph(st, [&](int) {
        cublasGemmEx(cb, CUBLAS_OP_T, CUBLAS_OP_N, R, R, R, &one, ra.p, CUDA_R_16F, R, rb.p, CUDA_R_16F, R, &zero, rc.p,
                     CUDA_R_32F, R, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    });
    const double t_i = time_graph(st, [&](int) {
        cublasGemmEx(cb, CUBLAS_OP_T, CUBLAS_OP_N, R, R, R, &ione, ra.p, CUDA_R_8I, R, rb.p, CUDA_R_8I, R, &izero, rc.p,
                     CUDA_R_32I, R, CUBLAS_COMPUTE_32I, CUBLAS_GEMM_DEFAULT);
    });
    const double peak16 = 2.0 * R * R * R / t_h, peak8 = 2.0 * R * R * R / t_i;  // the compute rooflines
    printf("roofline: cuBLAS fp16 GEMM %.0f TFLOPS, int8 GEMM %.0f TOPS (8192^3)\n", peak16 / 1e12, peak8 / 1e12);

    // Sampling (qspec_sample) over Llama-3's vocabulary: random logits in [-8, 8] with a peaked head,
    // one draw per row; the time of one call for 1 and 32 rows. `qspec_bench sampling` stops after it.
    const bool sampling_only = argc > 1 && std::string(argv[1]) == "sampling";
    {
        const int V = 128256, R = 32;
        std::vector<float> hl((size_t)R * V);
        uint32_t h = 12345;
        for (auto& v : hl) { h = h * 1664525u + 1013904223u; v = -8.f + 16.f * (h >> 8) / 16777216.f; }
        for (int r = 0; r < R; ++r)
            for (int j = 0; j < 20; ++j) { h = h * 1664525u + 1013904223u; hl[(size_t)r * V + (h >> 8) % V] = 12.f; }
        Dev<float> dl((size_t)R * V);
        CK(cudaMemcpy(dl.p, hl.data(), hl.size() * 4, cudaMemcpyHostToDevice));
        Dev<int32_t> out(R), dummy(1);
        const size_t ws = qspec_sample_workspace_bytes(R, V);
        Dev<uint8_t> dw(ws);
        struct Case { const char* name; double t, top_p; int top_k; } cases[] = {
            {"T=0.8 top-p 0.95", 0.8, 0.95, 0}, {"T=0.8 top-k 50", 0.8, 1, 50}, {"T=1 (no filter)", 1, 1, 0}};
        for (auto& c : cases) {
            std::vector<qspec_draw> draws(R);
            for (int d = 0; d < R; ++d) {
                draws[d] = qspec_draw{};
                draws[d].row = d, draws[d].top_k = c.top_k, draws[d].temperature = c.t, draws[d].top_p = c.top_p;
                draws[d].repetition_penalty = 1, draws[d].uniform = (d + 0.5) / R;
            }
            Dev<uint8_t> dd(R * sizeof(qspec_draw));
            CK(cudaMemcpy(dd.p, draws.data(), R * sizeof(qspec_draw), cudaMemcpyHostToDevice));
            double t[2];
            int rows[2] = {1, R};
            for (int k = 0; k < 2; ++k)
                t[k] = time_graph(st, [&](int) {
                    CQ(qspec_sample(dl.p, V, V, reinterpret_cast<const qspec_draw*>(dd.p), rows[k], dummy.p, dummy.p, dw.p,
                                    ws, out.p, st));
                });
            printf("sampling V=%d %s: %.1f us for 1 row, %.1f us for %d rows\n", V, c.name, t[0] * 1e6, t[1] * 1e6, R);
        }
    }
    if (sampling_only) return 0;

    struct Shape { const char* name; int K, N; };
    const Shape shapes[] = {{"q/o", 4096, 4096}, {"k/v", 4096, 1024}, {"gate/up", 4096, 14336},
                            {"down", 14336, 4096}, {"lm_head", 4096, 128256},
                            // as the model runs them: q, k and v stacked, gate and up stacked ("Stacked projections")
                            {"q+k+v", 4096, 6144}, {"gate+up", 4096, 28672}};
    // QSPEC_BENCH_QUICK=1: fewer batch sizes and no cuBLAS column, for comparing kernel variants quickly
    const bool quick = getenv("QSPEC_BENCH_QUICK") != nullptr;
    std::vector<int> Ms = quick ? std::vector<int>{1, 4, 16, 64, 256} : std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128, 256};
    // QSPEC_BENCH_MS=1,2,4: these batch sizes instead (each 1..256)
    if (const char* v = getenv("QSPEC_BENCH_MS")) {
        Ms.clear();
        for (const std::string& item : split(v, ',')) {
            const int m = atoi(item.c_str());
            if (m >= 1 && m <= 256) Ms.push_back(m);
        }
    }
    const int group = 128, MAXM = 256;
    const size_t arena = 512ull << 20;  // rotate weight copies over >= 512 MB (L2 is 50 MB)
    Dev<uint8_t> w4(arena + (300ull << 20));
    Dev<__half> w16((size_t)(1200ull << 20) / 2);
    Dev<__half> x((size_t)MAXM * 14336);
    Dev<int8_t> xq((size_t)MAXM * 14336);
    Dev<float> xs((size_t)MAXM * 14336 / 32), y((size_t)MAXM * 128256);
    fill_bytes<<<4096, 256, 0, st>>>(w4.p, w4.n, 4);
    fill_f16<<<4096, 256, 0, st>>>(w16.p, w16.n, -0.05f, 0.05f, 5);
    fill_f16<<<4096, 256, 0, st>>>(x.p, x.n, -2, 2, 6);
    CK(cudaStreamSynchronize(st));

    // The tokens come in the order qspec_tokens_order names, as the runner's producers write them (the data are random,
    // so their order does not change the time); QSPEC_BENCH_ORDER=row: in row order (then the GEMMs that read MMA order
    // permute them first, as before ABI 13).
    const bool row_order = getenv("QSPEC_BENCH_ORDER") != nullptr && strcmp(getenv("QSPEC_BENCH_ORDER"), "row") == 0;
    auto order_of = [&](int bits, int M, int N, int K) {
        return row_order ? QSPEC_TOKENS_ROW : qspec_tokens_order(bits, M, N, K, group);
    };
    std::vector<std::string> md, mdc;  // the bandwidth table, and the compute table (M >= 32)
    printf("csv,shape,K,N,M,kernel,us,GB_per_s,pct_hbm,TOPS,speedup_vs_w4a16\n");
    // QSPEC_BENCH_SHAPES=gate/up,lm_head: only these shapes (names as in the table)
    const char* env_shapes = getenv("QSPEC_BENCH_SHAPES");
    const std::vector<std::string> only = env_shapes ? split(env_shapes, ',') : std::vector<std::string>{};
    for (const Shape& s : shapes) {
        if (env_shapes != nullptr && std::find(only.begin(), only.end(), s.name) == only.end()) continue;
        const WeightCopies w(w4, s.N, s.K, st);
        const size_t wbytes = w.wbytes, sbytes = w.sbytes;
        // The same bytes (weights and scales of one copy, the copies rotated as the GEMMs rotate them) read by a
        // kernel that does nothing else, launched the same way: what any GEMM of this shape could take at best,
        // its launch and the first and last bytes' latency included (the best of a few grids).
        double tread = 1e30;
        for (int blocks_per_sm : {2, 4, 8})
            for (int threads : {256, 512}) {
                if (blocks_per_sm * threads > 2048) continue;
                tread = std::min(tread, time_graph(st, [&](int i) {
                    read_words<<<prop.multiProcessorCount * blocks_per_sm, threads, 0, st>>>(
                        reinterpret_cast<const uint4*>(w.packed(i)), (wbytes + sbytes) / 16, sink.p);
                }));
            }
        printf("csv,%s,%d,%d,0,read_only,%.2f,%.0f,%.1f,0,0\n", s.name, s.K, s.N, tread * 1e6, (wbytes + sbytes) / tread / 1e9,
               100.0 * (wbytes + sbytes) / tread / hbm);
        const size_t stride16 = (size_t)s.N * s.K;
        const int copies16 = (int)std::max<size_t>(1, w16.n / stride16);
        for (int M : Ms) {
            const int o16 = order_of(16, M, s.N, s.K), o8 = order_of(8, M, s.N, s.K);
            CQ(qspec_quantize_activations(x.p, s.K, M, s.K, group, 8, xq.p, xs.p, o8, st));
            const double t16 = time_graph(st, [&](int i) {
                CQ(qspec_w4a16_gemm(x.p, s.K, w.packed(i), w.scales(i), y.p, s.N, M, s.N, s.K, group, 0, o16, st));
            });
            const double t8 = time_graph(st, [&](int i) {
                CQ(qspec_w4ax_gemm(xq.p, xs.p, w.packed(i), w.scales(i), y.p, s.N, M, s.N, s.K, group, 8, 0, o8, st));
            });
            const double tcb = quick ? 1.0 : time_graph(st, [&](int i) {
                cublasGemmEx(cb, CUBLAS_OP_T, CUBLAS_OP_N, s.N, M, s.K, &one, w16.p + (size_t)(i % copies16) * stride16,
                             CUDA_R_16F, s.K, x.p, CUDA_R_16F, s.K, &zero, y.p, CUDA_R_32F, s.N, CUBLAS_COMPUTE_32F,
                             CUBLAS_GEMM_DEFAULT);
            });
            CK(cudaGetLastError());
            const double flop = 2.0 * M * s.N * s.K, b4 = (double)(wbytes + sbytes), b16 = 2.0 * s.N * s.K;
            struct Row { const char* k; double t, b; } rows[] = {{"w4a16", t16, b4}, {"w4a8", t8, b4}, {"cublas_f16", tcb, b16}};
            for (auto& r : rows)
                printf("csv,%s,%d,%d,%d,%s,%.2f,%.0f,%.1f,%.2f,%.2f\n", s.name, s.K, s.N, M, r.k, r.t * 1e6, r.b / r.t / 1e9,
                       100.0 * r.b / r.t / hbm, flop / r.t / 1e12, t16 / r.t);
            char line[512];
            snprintf(line, sizeof line, "| %s | %dx%d | %d | %.1f | %.0f%% | %.0f%% | %.1f | %.0f%% | %.0f%% | %.2fx | %.1f | %.1f | %.2fx |",
                     s.name, s.K, s.N, M, t16 * 1e6, 100.0 * b4 / t16 / hbm, 100.0 * tread / t16, t8 * 1e6,
                     100.0 * b4 / t8 / hbm, 100.0 * tread / t8, t16 / t8, tread * 1e6, tcb * 1e6, tcb / t16);
            md.push_back(line);
            if (M >= 32) {
                snprintf(line, sizeof line, "| %s | %dx%d | %d | %.0f | %.0f%% | %.0f | %.0f%% | %s |", s.name, s.K, s.N, M,
                         flop / t16 / 1e12, 100.0 * flop / t16 / peak16, flop / t8 / 1e12, 100.0 * flop / t8 / peak8,
                         quick ? "-" : std::to_string((int)(flop / tcb / 1e12 + 0.5)).c_str());
                mdc.push_back(line);
            }
        }
    }
    printf("\nHBM roofline %.0f GB/s (streaming read kernel; D2D copy %.0f). %% = (int4 weight + fp16 scale bytes) / time / roofline.\n\n",
           hbm / 1e9, copy_rate / 1e9);
    printf("%%read = the time of a kernel that only reads the same bytes, launched the same way (column \"read-only us\"), / "
           "the GEMM's time.\n\n");
    printf("| shape | KxN | M | W4A16 us | W4A16 %%HBM | W4A16 %%read | W4A8 us | W4A8 %%HBM | W4A8 %%read | W4A8 speedup | "
           "read-only us | cuBLAS f16 us | W4A16 vs cuBLAS |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (auto& l : md) printf("%s\n", l.c_str());
    printf("\nCompute view (M >= 32): W4A16 TFLOPS against cuBLAS's fp16 8192^3 rate (%.0f), W4A8 TOPS against its int8 "
           "rate (%.0f).\n\n", peak16 / 1e12, peak8 / 1e12);
    printf("| shape | KxN | M | W4A16 TFLOPS | W4A16 %% of fp16 peak | W4A8 TOPS | W4A8 %% of int8 peak | cuBLAS f16 TFLOPS |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (auto& l : mdc) printf("%s\n", l.c_str());
    cublasDestroy(cb);
    return 0;
}
