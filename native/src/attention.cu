// Causal attention over the paged fp16 KV cache; works for decode (one query per sequence) and
// verify (several queries of one sequence) alike, since every token carries its own sequence and
// position. GQA: head h reads kv head h / (heads / kv_heads). The tokens of a sequence with 64 or more
// in the pass (a prompt's prefill) take the prefill tiles on the tensor cores instead (attention_tiles.cuh).
//
// A token's context is cut into splits of SPLIT positions. A split is computed by one block of 4
// warps: the warps take chunks of 8 positions in turn, 4 lanes score one position (each a quarter of
// the 16-byte K chunks, then two shuffles), each warp keeps an online softmax in fp32, V is
// accumulated with lanes owning dims, and the warps' (max, sum, acc) are merged in warp order. The
// splits are then merged in split order by one online recurrence (merge_split). Two schedules run
// that same arithmetic, so they give the same bits:
//  - sequential: one block per (token, head) computes its splits one after another;
//  - split: one block per (token, head, split) writes its partial to a workspace, and a second
//    kernel merges them. Used when the pass has few (token, head) pairs and long contexts (decode of
//    a few long sequences, where the sequential schedule would leave most SMs idle) and the
//    workspace is large enough.
// The number of splits depends on the token's position alone, never on the other tokens of the pass:
// a token's attention has the same bits in a decode pass and in a verify pass (QSpec's exactness).
// Grids that fit on the GPU at once take a build whose warps load their next chunk while they compute
// this one (loads_ahead), with fewer instructions a chunk (warp_chunks' LEAN); the arithmetic, and so the bits, are
// those of the other build.
// Fused with RoPE and the KV write (qspec_rope_attention, passes of one token per sequence): each block
// rotates its head's q and its kv head's new k itself, exactly as rope_write_kv does (rope_pair), keeps the
// new k and v in shared memory as the fp16 values the pool stores, and reads them there for the token's own
// position instead of from the pool; one block per (token, kv head) writes them to the pool for later passes.
// The scores and sums are those of rope_write_kv followed by qspec_attention: the same bits.
// Decode tiles (attention_decode_tiles.cuh, opt-in): decode and verify attention on the tensor cores, with other bits
// than these kernels', for every token or for the tokens of long contexts (each token's kernel by its own position).
#include <algorithm>
#include <climits>
#include <string.h>
#include "common.cuh"
#include "attention_tiles.cuh"

namespace {

constexpr int WARPS = 4, MAX_HD = 128, DPL = MAX_HD / 32;  // dims per lane
constexpr int CHUNK = 8;                                    // positions per warp turn: 4 lanes each
constexpr int SPLIT = 256;                                  // positions per split (32 chunks)
// Blocks per SM that the loads-ahead builds keep at once: loads_ahead takes them for grids of up to this many blocks an
// SM, so their registers are capped to fit (128 a thread).
constexpr int AHEAD_BLOCKS = 4;

// The dims a lane owns in V and in the output: two adjacent pairs, 2 lane, 2 lane + 1 and 64 + 2 lane,
// 65 + 2 lane (i = 0 .. 3), so each pair is one 32-bit load. A dim's sum is the same sequence of FMAs
// whichever lane owns it.
__device__ __forceinline__ int dim_of(int lane, int i) { return (i >> 1) * 64 + 2 * lane + (i & 1); }

// The splits of npos positions, of `split` positions each (the decode tiles' may be shorter: split_positions).
__host__ __device__ constexpr int splits_of(int npos, int split = SPLIT) { return (npos + split - 1) / split; }

// The (max, sum, unnormalised acc[hd]) of a softmax over some positions.
struct Partial {
    float m, l;
};

// The fused build's inputs (qspec_rope_attention): q|k|v rows of stride ld, RoPE's inverse frequencies and
// style, and the pools to write the new k and v into.
struct Rope {
    const float* qkv;
    int ld;
    const float* inv_freq;
    int style;
    half* kpool;
    half* vpool;
};

// A token's new k and v (fp16, as the pool stores them) for the fused build; `last` is the token's position
// (npos - 1), or -1 in the plain build, where every position comes from the pool.
struct NewKv {
    const half* k;
    const half* v;
    int last;
};

// What a lane needs of one chunk of 8 positions: the cache offset of its position (lanes 4j .. 4j+3
// hold position j), its quarter of that position's K row, and its dims of the 8 V rows.
struct ChunkLoads {
    long off;   // element offset of (p, kvh) in the pools; 0 past npos
    long off0;  // Paging::aligned: the offset of the chunk's first position (its V rows follow at row_stride)
    uint4 k[MAX_HD / 32];
    half2 v[CHUNK][DPL / 2];  // V row j's dims dim_of(lane, 2 i'), dim_of(lane, 2 i' + 1) as v[j][i']
};

// How positions map to pool offsets: position p of the sequence is row table[p / block_size] * block_size +
// p % block_size of the pool, and its kv head kvh's values start at row * row_stride + head_off (row_stride =
// kv_heads * hd). Computed once a walk, so that a chunk does not pay a signed division and a 64-bit multiply chain
// for each of its offsets (the profile of session 35: about 60 of a chunk's ~500 instructions). aligned: block_size is
// a multiple of CHUNK (8, 16, 32 ...), so a chunk's 8 positions share one block and row j's offset is the first's
// plus j row_stride (no shuffles of offsets between lanes). The offsets are the same numbers either way.
struct Paging {
    int block_size, shift, row_stride, head_off;
    bool pow2, aligned;
    // lean = false: the division and the shuffles always (pow2 and aligned false at compile time)
    template <bool LEAN>
    static __device__ __forceinline__ Paging of(int bs, int kv_heads, int kvh, int hd) {
        return Paging{bs, __ffs(bs) - 1, kv_heads * hd, kvh * hd, LEAN && (bs & (bs - 1)) == 0, LEAN && bs % CHUNK == 0};
    }
    __device__ __forceinline__ long offset(const int32_t* table, int p) const {
        const int b = pow2 ? p >> shift : p / block_size, i = pow2 ? p & (block_size - 1) : p % block_size;
        return (long)(table[b] * block_size + i) * row_stride + head_off;
    }
};

// Dims d, d + 1 of position p's V row (cache offset oj). The fused build takes the token's own position from shared
// memory; it still reads the pool there first (a value it then drops: the writer block may be storing that slot),
// so that every pool read stays a read-only global load. Choosing the pointer instead made nvcc emit generic loads for
// every V row, which cost the fused kernel 20-230 % against the two kernels on the H100 (session 21).
template <bool ROPE>
__device__ __forceinline__ half2 v_pair(const half* __restrict__ vpool, long oj, int d, int p, const NewKv& nkv) {
    if constexpr (!ROPE) {
        return *reinterpret_cast<const half2*>(vpool + oj + d);
    } else {
        half2 v = __ldg(reinterpret_cast<const half2*>(vpool + oj + d));
        if (p == nkv.last) v = *reinterpret_cast<const half2*>(nkv.v + d);
        return v;
    }
}

// A build's head size: HDC (MAX_HD: the bounds checks on dims fold away at compile time) or, with HDC = 0, the
// run-time hd (any multiple of 8 up to MAX_HD).
template <int HDC>
__device__ __forceinline__ int head_dim(int hd) { return HDC ? HDC : hd; }

// Issues the loads of chunk c: the block table and K, and with V (AHEAD) the 8 V rows too, their
// offsets computed (aligned paging) or shuffled from the lanes that hold them. None depends on a score, so the chunk
// costs one round of memory latency. Loads past npos or hd are skipped (their values are never used). FULL: the chunk's
// 8 positions are all below npos (every chunk of a walk but the context's last), so no position is checked.
template <bool V, bool ROPE, int HDC, bool FULL>
__device__ __forceinline__ void load_chunk(const half* __restrict__ kpool, const half* __restrict__ vpool,
                                           const int32_t* table, int npos, const Paging& pg, int hd_rt, int c,
                                           const NewKv& nkv, ChunkLoads& L) {
    const int hd = head_dim<HDC>(hd_rt);
    const int lane = threadIdx.x & 31, pp = lane >> 2, qq = lane & 3;
    const int base = c * CHUNK, p = base + pp;
    L.off = 0;
    if (pg.aligned) L.off0 = pg.offset(table, base);  // (base < npos: c is one of the walk's chunks)
    if (FULL || p < npos) {
        L.off = pg.aligned ? L.off0 + (long)pp * pg.row_stride : pg.offset(table, p);
        const uint4* kr = reinterpret_cast<const uint4*>(kpool + L.off);
        const bool fresh = ROPE && p == nkv.last;  // the token's own k: shared memory, not yet in the pool
#pragma unroll
        for (int k = 0; k < MAX_HD / 32; ++k)
            if (qq + 4 * k < hd / 8) {
                L.k[k] = __ldg(kr + qq + 4 * k);  // as v_pair: a read-only load, then the fresh k at the token's position
                if (fresh) L.k[k] = reinterpret_cast<const uint4*>(nkv.k)[qq + 4 * k];
            }
    }
    if (!V) return;
    const int valid = FULL ? CHUNK : min(CHUNK, npos - base);
#pragma unroll
    for (int j = 0; j < CHUNK; ++j) {
        const long oj = pg.aligned ? L.off0 + (long)j * pg.row_stride : __shfl_sync(0xffffffffu, L.off, 4 * j);
        if (j < valid) {
#pragma unroll
            for (int i = 0; i < DPL; i += 2) {  // hd % 8 == 0: an even dim below hd has its pair below hd
                const int d = dim_of(lane, i);
                if (d < hd) L.v[j][i / 2] = v_pair<ROPE>(vpool, oj, d, base + j, nkv);
            }
        }
    }
}

// s plus the dot product of 8 fp16 K values (4 pairs) with q's 8 (an array or a pointer into shared memory), as one
// chain of FMAs in dim order.
template <typename Q>
__device__ __forceinline__ float dot8(const half2* h2, const Q& qc, float s) {
#pragma unroll
    for (int e = 0; e < 4; ++e) {
        const float2 f = __half22float2(h2[e]);
        s = fmaf(f.y, qc[2 * e + 1], fmaf(f.x, qc[2 * e], s));
    }
    return s;
}

// One chunk of a warp's online softmax (chunk c's K, and with AHEAD its V rows, in `cur`): its scores against the GT
// heads' q, the running max and sum, and its V rows weighed into acc. FULL: as load_chunk's. LEAN: warp_chunks'.
template <int AHEAD, bool ROPE, int GT, int HDC, bool FULL, bool LEAN>
__device__ __forceinline__ void chunk_step(const float* qs, const half* __restrict__ vpool, int npos, const Paging& pg,
                                           int hd_rt, int c, const NewKv& nkv, const ChunkLoads& cur, float (&m)[GT],
                                           float (&l)[GT], float (&acc)[GT][DPL]) {
    const int hd = head_dim<HDC>(hd_rt);
    const int lane = threadIdx.x & 31, pp = lane >> 2, qq = lane & 3;
    const int base = c * CHUNK, p = base + pp;
    float pr[GT];
#pragma unroll
    for (int g = 0; g < GT; ++g) {
        float s = -INFINITY;
        if (FULL || p < npos) {
            s = 0.f;
#pragma unroll
            for (int k = 0; k < MAX_HD / 32; ++k) {
                if (qq + 4 * k >= hd / 8) break;
                const half2* h2 = reinterpret_cast<const half2*>(&cur.k[k]);
                const float* qr = qs + g * MAX_HD + 8 * (qq + 4 * k);
                if constexpr (LEAN) {  // two 16-byte loads where there were eight 4-byte ones
                    const float4 qa = reinterpret_cast<const float4*>(qr)[0];
                    const float4 qb = reinterpret_cast<const float4*>(qr)[1];
                    const float qc[8] = {qa.x, qa.y, qa.z, qa.w, qb.x, qb.y, qb.z, qb.w};
                    s = dot8(h2, qc, s);
                } else {
                    s = dot8(h2, qr, s);
                }
            }
        }
        s += __shfl_xor_sync(0xffffffffu, s, 1);  // the position's 4 quarters (-inf stays -inf)
        s += __shfl_xor_sync(0xffffffffu, s, 2);
        // LEAN: over the chunk's 8 positions only, 3 shuffles (a position's 4 lanes hold equal values, so warp_sum's
        // last two steps only multiplied by 4, exactly, which the 0.25 took back: the same bits)
        const float mnew = fmaxf(m[g], LEAN ? warp_max<4>(s) : warp_max(s));
        const float corr = __expf(m[g] - mnew);
        pr[g] = FULL || p < npos ? __expf(s - mnew) : 0.f;
        l[g] = fmaf(l[g], corr, LEAN ? warp_sum<4>(pr[g]) : warp_sum(pr[g]) * 0.25f);
        m[g] = mnew;
#pragma unroll
        for (int i = 0; i < DPL; ++i) acc[g][i] *= corr;
    }
    const int valid = FULL ? CHUNK : min(CHUNK, npos - base);
#pragma unroll
    for (int j = 0; j < CHUNK; ++j) {
        if (j >= valid) break;
        float pj[GT];
#pragma unroll
        for (int g = 0; g < GT; ++g) pj[g] = __shfl_sync(0xffffffffu, pr[g], 4 * j);
        const long oj = AHEAD                ? 0
                        : pg.aligned ? cur.off0 + (long)j * pg.row_stride
                                     : __shfl_sync(0xffffffffu, cur.off, 4 * j);
#pragma unroll
        for (int i = 0; i < DPL; i += 2) {
            const int d = dim_of(lane, i);
            if (d >= hd) continue;
            const half2 vh = AHEAD ? cur.v[j][i / 2] : v_pair<ROPE>(vpool, oj, d, base + j, nkv);
            const float2 v = __half22float2(vh);
#pragma unroll
            for (int g = 0; g < GT; ++g) {
                acc[g][i] = fmaf(pj[g], v.x, acc[g][i]);
                acc[g][i + 1] = fmaf(pj[g], v.y, acc[g][i + 1]);
            }
        }
    }
}

// Whether chunk c takes the full-chunk path: its 8 positions all below npos, in the lean build (the plain build has none,
// so where this is true, FULL = LEAN).
template <bool LEAN>
__device__ __forceinline__ bool full_chunk(int c, int npos) { return LEAN && (c + 1) * CHUNK <= npos; }

// Chunk c's loads, through the full-chunk path where full_chunk says so.
template <bool V, bool ROPE, int HDC, bool LEAN>
__device__ __forceinline__ void load_any_chunk(const half* __restrict__ kpool, const half* __restrict__ vpool,
                                               const int32_t* table, int npos, const Paging& pg, int hd, int c,
                                               const NewKv& nkv, ChunkLoads& L) {
    if (full_chunk<LEAN>(c, npos))
        load_chunk<V, ROPE, HDC, LEAN>(kpool, vpool, table, npos, pg, hd, c, nkv, L);
    else
        load_chunk<V, ROPE, HDC, false>(kpool, vpool, table, npos, pg, hd, c, nkv, L);
}

// One warp's online softmax over the chunks [c0, c1) of 8 positions that it takes (c0 + warp,
// c0 + warp + WARPS, ...): running max m, sum l and the weighted V rows in acc (lanes own dims
// dim_of(lane, i)). AHEAD: the next chunk's K and V are in flight while a chunk is computed (about twice
// the registers); otherwise a chunk's K is loaded at its start and its V rows once its scores are known
// (two rounds of memory latency per chunk). The arithmetic is the same, so are the bits. GT heads of one kv
// head (q of head g at qs + g MAX_HD): each chunk's K and V are loaded once for all of them, and each head's
// state takes the same operations, in the same order, as with one head. `warp`: the chunks' stream (the warp's index
// in the block, or in query tiles one of a token's four warps). AHEAD = 2 (QSPEC_ATTENTION_AHEAD=2, measured without
// gain in session 29): two chunks in flight while one is computed; the same arithmetic. HDC: head_dim's.
template <int AHEAD, bool ROPE, int GT, int HDC, bool LEAN>
__device__ __forceinline__ void warp_chunks_hd(const float* qs, const half* __restrict__ kpool,
                                               const half* __restrict__ vpool, const int32_t* table, int npos,
                                               int block_size, int kv_heads, int kvh, int hd, int c0, int c1,
                                               const NewKv& nkv, int warp, float (&m)[GT], float (&l)[GT],
                                               float (&acc)[GT][DPL]) {
    const Paging pg = Paging::of<LEAN>(block_size, kv_heads, kvh, hd);
#pragma unroll
    for (int g = 0; g < GT; ++g) {
        m[g] = -INFINITY;
        l[g] = 0.f;
#pragma unroll
        for (int i = 0; i < DPL; ++i) acc[g][i] = 0.f;
    }
    ChunkLoads cur, nxt, nxt2;
    if (AHEAD && c0 + warp < c1)
        load_any_chunk<true, ROPE, HDC, LEAN>(kpool, vpool, table, npos, pg, hd, c0 + warp, nkv, cur);
    if (AHEAD == 2 && c0 + warp + WARPS < c1)
        load_any_chunk<true, ROPE, HDC, LEAN>(kpool, vpool, table, npos, pg, hd, c0 + warp + WARPS, nkv, nxt);
    for (int c = c0 + warp; c < c1; c += WARPS) {
        if (!AHEAD)
            load_any_chunk<false, ROPE, HDC, LEAN>(kpool, vpool, table, npos, pg, hd, c, nkv, cur);
        else if (AHEAD == 1 && c + WARPS < c1)
            load_any_chunk<true, ROPE, HDC, LEAN>(kpool, vpool, table, npos, pg, hd, c + WARPS, nkv, nxt);
        else if (AHEAD == 2 && c + 2 * WARPS < c1)
            load_any_chunk<true, ROPE, HDC, LEAN>(kpool, vpool, table, npos, pg, hd, c + 2 * WARPS, nkv, nxt2);
        if (full_chunk<LEAN>(c, npos))
            chunk_step<AHEAD, ROPE, GT, HDC, LEAN, LEAN>(qs, vpool, npos, pg, hd, c, nkv, cur, m, l, acc);
        else
            chunk_step<AHEAD, ROPE, GT, HDC, false, LEAN>(qs, vpool, npos, pg, hd, c, nkv, cur, m, l, acc);
        if (AHEAD) cur = nxt;
        if (AHEAD == 2) nxt = nxt2;
    }
}

// warp_chunks_hd in one of two builds of the same arithmetic (the same bits). LEAN (the loads-ahead build, whose grids
// fit on the GPU at once and whose warps are bound by issuing instructions, session 35's profile): offsets by shift and
// arithmetic, q as float4, the chunk's max and sum over 3 shuffles, a path for full chunks, and the head size of
// Llama-class models (128) built in where it is the model's. Otherwise (the plain build, bound by load latency on large
// grids, where occupancy pays; and the query tiles' kernels, whose 512 threads hold 128 registers each) the generic
// chunk, whose fewer registers measured faster there (session 36).
template <int AHEAD, bool ROPE, int GT, bool LEAN = AHEAD == 1>
__device__ __forceinline__ void warp_chunks(const float* qs, const half* __restrict__ kpool,
                                            const half* __restrict__ vpool, const int32_t* table, int npos,
                                            int block_size, int kv_heads, int kvh, int hd, int c0, int c1,
                                            const NewKv& nkv, int warp, float (&m)[GT], float (&l)[GT],
                                            float (&acc)[GT][DPL]) {
    if (LEAN && hd == MAX_HD)
        warp_chunks_hd<AHEAD, ROPE, GT, MAX_HD, LEAN>(qs, kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, c0,
                                                       c1, nkv, warp, m, l, acc);
    else
        warp_chunks_hd<AHEAD, ROPE, GT, 0, LEAN>(qs, kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, c0, c1,
                                                  nkv, warp, m, l, acc);
}

// Split s of a (token, head): its warps' softmaxes merged in warp order. Every thread gets the
// split's (m, l) and acc for its dim d = threadIdx.x (hd <= 128 = blockDim.x). Idle warps (m = -inf)
// weigh 0; every split holds at least one position, so m is finite. Ends with a barrier, so the
// shared scratch can be reused by the next split.
struct SplitScratch {
    float wm[WARPS], wl[WARPS], wacc[WARPS][MAX_HD];
};

// Each of R (token, head) rows' split partial from its warps' states in sh[r] (m = -inf: a warp without a chunk, weight
// 0), merged in warp order: its (m, l) in r[r] and, for the thread's dim d, its acc in acc_d[r]. Begins and ends with a
// barrier of the whole block, so the shared scratch can be reused.
template <int R>
__device__ __forceinline__ void merge_warps(SplitScratch (&sh)[R], Partial (&r)[R], float (&acc_d)[R], int hd, int d) {
    __syncthreads();
#pragma unroll
    for (int g = 0; g < R; ++g) {
        float gm = -INFINITY;
        for (int w = 0; w < WARPS; ++w) gm = fmaxf(gm, sh[g].wm[w]);
        float e[WARPS];
        r[g] = Partial{gm, 0.f};
        for (int w = 0; w < WARPS; ++w) {
            e[w] = sh[g].wm[w] == -INFINITY ? 0.f : __expf(sh[g].wm[w] - gm);
            r[g].l = fmaf(sh[g].wl[w], e[w], r[g].l);
        }
        acc_d[g] = 0.f;
        if (d < hd)
            for (int w = 0; w < WARPS; ++w) acc_d[g] = fmaf(sh[g].wacc[w][d], e[w], acc_d[g]);
    }
    __syncthreads();
}

// A warp's states of GT heads (m, l, acc) into the scratch of its rows sh[0 .. GT) as warp `w`'s.
template <int GT>
__device__ __forceinline__ void store_warp(SplitScratch* sh, int w, int hd, const float (&m)[GT], const float (&l)[GT],
                                           const float (&acc)[GT][DPL]) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int g = 0; g < GT; ++g) {
        if (lane == 0) { sh[g].wm[w] = m[g]; sh[g].wl[w] = l[g]; }
#pragma unroll
        for (int i = 0; i < DPL; ++i)
            if (dim_of(lane, i) < hd) sh[g].wacc[w][dim_of(lane, i)] = acc[g][i];
    }
}

// For GT heads (sh[g], r[g], acc_d[g]: head g's), each merged as one head's.
template <int AHEAD, bool ROPE, int GT>
__device__ __forceinline__ void split_partial(const float* qs, const half* __restrict__ kpool,
                                              const half* __restrict__ vpool, const int32_t* table, int npos,
                                              int block_size, int kv_heads, int kvh, int hd, int s, const NewKv& nkv,
                                              SplitScratch (&sh)[GT], Partial (&r)[GT], float (&acc_d)[GT]) {
    const int warp = threadIdx.x >> 5;
    const int nchunks = (npos + CHUNK - 1) / CHUNK, c0 = s * (SPLIT / CHUNK), c1 = min(nchunks, c0 + SPLIT / CHUNK);
    float m[GT], l[GT], acc[GT][DPL];
    warp_chunks<AHEAD, ROPE, GT>(qs, kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, c0, c1, nkv, warp, m, l,
                                 acc);
    store_warp<GT>(sh, warp, hd, m, l, acc);
    merge_warps<GT>(sh, r, acc_d, hd, threadIdx.x);
}

// Merges split s > 0 into the running (m, l, acc) of splits 0 .. s-1, in split order. Split 0 is
// taken as it is, so a context of one split is exactly acc / l of its block.
__device__ __forceinline__ void merge_split(Partial& run, float& run_acc, Partial p, float p_acc) {
    const float mnew = fmaxf(run.m, p.m);
    const float a = __expf(run.m - mnew), b = __expf(p.m - mnew);
    run.l = fmaf(run.l, a, p.l * b);  // explicit FMAs: both schedules must round alike
    run_acc = fmaf(run_acc, a, p_acc * b);
    run.m = mnew;
}

__device__ __forceinline__ void load_q(const float* __restrict__ q, int t, int h, int heads, int hd, float* qs) {
    const float scale = rsqrtf((float)hd);
    for (int d = threadIdx.x; d < hd; d += blockDim.x) qs[d] = q[((long)t * heads + h) * hd + d] * scale;
    __syncthreads();
}

// The fused build's load_q: head h's q rotated from the q|k|v row as rope_write_kv rotates it, then scaled as
// load_q scales it; kv head kvh's new k rotated and v, rounded to fp16 as rope_write_kv stores them.
__device__ __forceinline__ void load_q_rope(const Rope& r, int t, int pos, int h, int kvh, int heads, int kv_heads,
                                            int hd, float* qs, half* knew, half* vnew) {
    const float scale = rsqrtf((float)hd);
    const float* row = r.qkv + (long)t * r.ld;
    const float* qh = row + (long)h * hd;
    const float* kh = row + (long)heads * hd + (long)kvh * hd;
    const float* vh = row + (long)(heads + kv_heads) * hd + (long)kvh * hd;
    const int half_hd = hd / 2;
    for (int i = threadIdx.x; i < half_hd; i += blockDim.x) {
        const int d0 = r.style == 0 ? 2 * i : i, d1 = r.style == 0 ? 2 * i + 1 : i + half_hd;
        float s, c;
        sincosf((float)pos * r.inv_freq[i], &s, &c);
        const float2 q2 = rope_pair(qh[d0], qh[d1], c, s), k2 = rope_pair(kh[d0], kh[d1], c, s);
        qs[d0] = q2.x * scale;
        qs[d1] = q2.y * scale;
        knew[d0] = __float2half(k2.x);
        knew[d1] = __float2half(k2.y);
    }
    for (int d = threadIdx.x; d < hd; d += blockDim.x) vnew[d] = __float2half(vh[d]);
    __syncthreads();
}

// The block's q (rotated in the fused build) and, in the fused build, the token's new k and v; one block per
// (token, kv head), `writer`, also stores them into the pool at the token's slot, which no block of this pass
// reads (the pass holds one token per sequence).
template <bool ROPE>
__device__ __forceinline__ NewKv block_inputs(const float* __restrict__ q, const Rope& rope, const int32_t* table,
                                              int t, int pos, int h, int kvh, int heads, int kv_heads, int hd,
                                              int block_size, bool writer, float* qs, half* knew, half* vnew) {
    if constexpr (!ROPE) {
        load_q(q, t, h, heads, hd, qs);
        return NewKv{nullptr, nullptr, -1};
    } else {
        load_q_rope(rope, t, pos, h, kvh, heads, kv_heads, hd, qs, knew, vnew);
        if (writer) {
            const long slot = (((long)table[pos / block_size] * block_size + pos % block_size) * kv_heads + kvh) * hd;
            for (int d = threadIdx.x; d < hd; d += blockDim.x) {
                rope.kpool[slot + d] = knew[d];
                rope.vpool[slot + d] = vnew[d];
            }
        }
        return NewKv{knew, vnew, pos};
    }
}

// Which tokens of a pass a launch leaves to other kernels: the prefill tiles' (the tokens of long runs, where long_runs)
// and those whose context (npos = position + 1) is outside [npos_from, npos_below) (the decode tiles' range, either
// side). A token's kernel thus follows its own position and the pass's runs, never the other tokens' contexts.
struct Skip {
    bool long_runs;
    int npos_from, npos_below;
};
constexpr Skip NO_SKIP{false, 0, INT_MAX};

// Whether token t (of T in the pass) is skipped, by all 32 lanes of a warp.
__device__ __forceinline__ bool skip_warp(const Skip& k, const int32_t* __restrict__ token_seq,
                                          const int32_t* __restrict__ token_pos, int T, int t) {
    const int npos = token_pos[t] + 1;
    if (npos < k.npos_from || npos >= k.npos_below) return true;  // warp-uniform
    return k.long_runs && tiles::in_long_run_warp(token_seq, T, t);
}

// Whether this block's token t (of gridDim.x) is skipped (skip_warp), in which case the block does nothing.
// Block-uniform; call before any other barrier.
__device__ __forceinline__ bool tiles_take(const Skip& k, const int32_t* __restrict__ token_seq,
                                           const int32_t* __restrict__ token_pos, int t) {
    if (!k.long_runs && k.npos_from <= 0 && k.npos_below == INT_MAX) return false;
    __shared__ bool taken;
    if (threadIdx.x < 32) {
        const bool mine = skip_warp(k, token_seq, token_pos, gridDim.x, t);
        if (threadIdx.x == 0) taken = mine;
    }
    __syncthreads();
    return taken;
}

// Sequential schedule: block (t, h) computes its splits one after another; with GT > 1 (head tiles: not the fused
// build), block (t, hg) does so for heads GT hg .. GT hg + GT - 1, which share one kv head (GT divides heads /
// kv_heads), loading each chunk's K and V once for all of them.
template <bool AHEAD, bool ROPE, int GT = 1>
__global__ void __launch_bounds__(WARPS * 32, AHEAD == 1 ? AHEAD_BLOCKS : 0) attention_kernel(
    const float* __restrict__ q, const half* __restrict__ kpool, const half* __restrict__ vpool,
    const int32_t* __restrict__ token_seq, const int32_t* __restrict__ token_pos,
    const int32_t* __restrict__ block_tables, int max_blocks, int block_size, int heads, int kv_heads, int hd,
    Rope rope, half* __restrict__ out, Skip skip = NO_SKIP) {
    static_assert(GT == 1 || !ROPE, "the fused build writes the new k and v from one head's block");
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    __shared__ __align__(16) float qs[GT][MAX_HD];  // 16-byte rows: warp_chunks reads q as float4
    __shared__ __align__(16) half knew[ROPE ? MAX_HD : 8], vnew[ROPE ? MAX_HD : 8];
    __shared__ SplitScratch sh[GT];
    const int t = blockIdx.x, h0 = blockIdx.y * GT;
    if (tiles_take(skip, token_seq, token_pos, t)) return;
    const int kvh = h0 / (heads / kv_heads), npos = token_pos[t] + 1;
    const int32_t* table = block_tables + (long)token_seq[t] * max_blocks;
    NewKv nkv{nullptr, nullptr, -1};
    if constexpr (GT == 1) {
        nkv = block_inputs<ROPE>(q, rope, table, t, npos - 1, h0, kvh, heads, kv_heads, hd, block_size,
                                 h0 % (heads / kv_heads) == 0, qs[0], knew, vnew);
    } else {
#pragma unroll
        for (int g = 0; g < GT; ++g) load_q(q, t, h0 + g, heads, hd, qs[g]);
    }
    Partial run[GT];
    float run_acc[GT];
    split_partial<AHEAD, ROPE, GT>(qs[0], kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, 0, nkv, sh, run,
                                   run_acc);
    for (int s = 1; s < splits_of(npos); ++s) {
        Partial p[GT];
        float p_acc[GT];
        split_partial<AHEAD, ROPE, GT>(qs[0], kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, s, nkv, sh, p,
                                       p_acc);
#pragma unroll
        for (int g = 0; g < GT; ++g) merge_split(run[g], run_acc[g], p[g], p_acc[g]);
    }
#pragma unroll
    for (int g = 0; g < GT; ++g)
        if (threadIdx.x < hd) out[((long)t * heads + h0 + g) * hd + threadIdx.x] = __float2half(run_acc[g] / run[g].l);
}

// Split s of token t for the G heads h0 .. h0 + G - 1 of one kv head (head h0 + g's q in qs[g]): the partials of
// split_partial stored at ws[(t * heads + h0 + g) * S + s] as hd + 2 floats (acc[0..hd), m, l).
template <int AHEAD, bool ROPE, int G>
__device__ __forceinline__ void split_to_workspace(const float* qs, const half* __restrict__ kpool,
                                                   const half* __restrict__ vpool, const int32_t* table, int npos,
                                                   int block_size, int kv_heads, int kvh, int hd, int s,
                                                   const NewKv& nkv, SplitScratch (&sh)[G], int t, int h0, int heads,
                                                   int S, float* __restrict__ ws) {
    Partial p[G];
    float acc[G];
    split_partial<AHEAD, ROPE, G>(qs, kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, s, nkv, sh, p, acc);
#pragma unroll
    for (int g = 0; g < G; ++g) {
        float* dst = ws + (((long)t * heads + h0 + g) * S + s) * (hd + 2);
        if (threadIdx.x < hd) dst[threadIdx.x] = acc[g];
        if (threadIdx.x == 0) { dst[hd] = p[g].m; dst[hd + 1] = p[g].l; }
    }
}

// Split schedule, part 1: block (t, h, s) writes split s's partial to the workspace (split_to_workspace); blocks
// past the token's last split do nothing. With GT > 1 (head tiles: not the fused build), block (t, hg, s) does so for
// heads GT hg .. GT hg + GT - 1 of one kv head, loading each chunk's K and V once for all of them; each head's
// partial is the one-head block's, bit for bit.
template <bool AHEAD, bool ROPE, int GT = 1>
__global__ void __launch_bounds__(WARPS * 32, AHEAD == 1 ? AHEAD_BLOCKS : 0) attention_split_kernel(
    const float* __restrict__ q, const half* __restrict__ kpool, const half* __restrict__ vpool,
    const int32_t* __restrict__ token_seq, const int32_t* __restrict__ token_pos,
    const int32_t* __restrict__ block_tables, int max_blocks, int block_size, int heads, int kv_heads, int hd,
    Rope rope, float* __restrict__ ws, Skip skip = NO_SKIP) {
    static_assert(GT == 1 || !ROPE, "the fused build writes the new k and v from one head's block");
    __shared__ __align__(16) float qs[GT][MAX_HD];  // 16-byte rows: warp_chunks reads q as float4
    __shared__ __align__(16) half knew[ROPE ? MAX_HD : 8], vnew[ROPE ? MAX_HD : 8];
    __shared__ SplitScratch sh[GT];
    const int t = blockIdx.x, h0 = blockIdx.y * GT, s = blockIdx.z, S = gridDim.z;
    if (tiles_take(skip, token_seq, token_pos, t)) return;
    const int npos = token_pos[t] + 1;
    if (s >= splits_of(npos)) return;  // block-uniform (split 0 always runs: it writes the new k and v)
    const int kvh = h0 / (heads / kv_heads);
    const int32_t* table = block_tables + (long)token_seq[t] * max_blocks;
    NewKv nkv{nullptr, nullptr, -1};
    if constexpr (GT == 1) {
        nkv = block_inputs<ROPE>(q, rope, table, t, npos - 1, h0, kvh, heads, kv_heads, hd, block_size,
                                 s == 0 && h0 % (heads / kv_heads) == 0, qs[0], knew, vnew);
    } else {
#pragma unroll
        for (int g = 0; g < GT; ++g) load_q(q, t, h0 + g, heads, hd, qs[g]);
    }
    split_to_workspace<AHEAD, ROPE, GT>(qs[0], kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, s, nkv, sh, t,
                                        h0, heads, S, ws);
}

// Split schedule with head tiles chosen per token (QSPEC_ATTENTION_SPLIT_TILES=auto): the one-head grid (t, h, s). A
// token whose pass keeps at least min_tiled tiled blocks at its own context (T heads / GT splits_of(its positions))
// has the GT heads of a kv head computed by the block of the first of them, as attention_split_kernel<GT> computes
// them, and the other GT - 1 blocks exit; other tokens take one head a block. The choice follows the token's
// positions, which only the device knows (and a CUDA graph replays with new ones); either way each head's partial
// has the bits of a one-head block. The blocks are numbered so that those of the tiles' first heads come first (in
// launch order: token, tile, split) and the others after them (token, head, split): the blocks that may exit are
// launched last, so that the blocks that work spread over the SMs. In (t, h, s) order every GT-th block worked, which
// probably put them on a quarter of the SMs: one sequence at 8192 positions took 38.6 us against 31.3 on the tiled
// grid (H100, session 25).
template <int AHEAD, int GT>
__global__ void __launch_bounds__(WARPS * 32, AHEAD == 1 ? AHEAD_BLOCKS : 0) attention_split_auto_kernel(
    const float* __restrict__ q, const half* __restrict__ kpool, const half* __restrict__ vpool,
    const int32_t* __restrict__ token_seq, const int32_t* __restrict__ token_pos,
    const int32_t* __restrict__ block_tables, int max_blocks, int block_size, int heads, int kv_heads, int hd,
    long min_tiled, float* __restrict__ ws, Skip skip) {
    __shared__ __align__(16) float qs[GT][MAX_HD];  // 16-byte rows: warp_chunks reads q as float4
    __shared__ SplitScratch sh[GT];
    const int T = gridDim.x, S = gridDim.z, tiles = heads / GT;
    const long b = blockIdx.x + (long)T * (blockIdx.y + (long)heads * blockIdx.z), firsts = (long)T * tiles * S;
    int t, h, s;
    if (b < firsts) {  // the first head of tile r % tiles
        const long r = b / T;
        t = (int)(b % T), h = (int)(r % tiles) * GT, s = (int)(r / tiles);
    } else {  // head 1 + j % (GT - 1) of tile j / (GT - 1)
        const long c = b - firsts, r = c / T, others = (long)tiles * (GT - 1);
        const int j = (int)(r % others);
        t = (int)(c % T), h = (j / (GT - 1)) * GT + 1 + j % (GT - 1), s = (int)(r / others);
    }
    if (tiles_take(skip, token_seq, token_pos, t)) return;
    const int npos = token_pos[t] + 1, ns = splits_of(npos);
    if (s >= ns) return;  // block-uniform, as below
    const bool tiled = (long)T * tiles * ns >= min_tiled;
    if (tiled && h % GT != 0) return;  // the tile's first head's block computes it
    const int kvh = h / (heads / kv_heads);
    const int32_t* table = block_tables + (long)token_seq[t] * max_blocks;
    const NewKv nkv{nullptr, nullptr, -1};
    if (tiled) {
#pragma unroll
        for (int g = 0; g < GT; ++g) load_q(q, t, h + g, heads, hd, qs[g]);
        split_to_workspace<AHEAD, false, GT>(qs[0], kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, s, nkv,
                                             sh, t, h, heads, S, ws);
    } else {
        load_q(q, t, h, heads, hd, qs[0]);
        split_to_workspace<AHEAD, false, 1>(qs[0], kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, s, nkv,
                                            *reinterpret_cast<SplitScratch(*)[1]>(&sh[0]), t, h, heads, S, ws);
    }
}

// Query tiles of verify passes (qspec_attention_runs): the pass's tokens come in runs of `run` consecutive tokens of
// one sequence (gamma + 1 in a QSpec verify). Block (tile, hg[, s]) of RUN_TILE x WARPS warps takes up to RUN_TILE
// consecutive tokens of a run and the GT heads of kv head hg: warps 4 qi .. 4 qi + 3 compute token qi as the four
// warps of a one-query block do (each its chunk stream; the token's 128 threads merge its rows in warp order), so each
// (token, head) gets that block's partial, bit for bit. The tokens' warps walk the same chunks at about the same time,
// so where the tokens are one sequence the loads after the first can hit L1, and each token keeps its four chains of
// loads. (Session 26's earlier layouts, all of a tile's rows in every warp and one warp per token walking the four
// streams in turn, were measured and lost: docs/KERNELS.md.) SPLITS: block (tile, hg, s) writes split s of its
// tokens to the workspace, which attention_merge_kernel merges; otherwise the block merges its tokens' splits in split
// order, as attention_kernel does. Tokens of several sequences in a tile (a wrong hint) give the same bits.
constexpr int RUN_TILE = 4, RUN_THREADS = RUN_TILE * WARPS * 32;
constexpr int MAX_RUN = 16;  // the longest run the query tiles take (a verify of gamma = 15); longer ones are prefills

struct RunTile {
    int t0, n;  // the tile's first token and its count
};
__device__ __forceinline__ RunTile run_tile(int tile, int run) {
    const int per = (run + RUN_TILE - 1) / RUN_TILE, r = tile / per, j = tile % per;
    return RunTile{r * run + j * RUN_TILE, min(RUN_TILE, run - j * RUN_TILE)};
}
__host__ __device__ constexpr long run_tiles(long T, int run) { return T / run * ((run + RUN_TILE - 1) / RUN_TILE); }

// Split s of the thread's token (npos positions; 0: none): its warp's chunk stream into sh, then the token's rows merged
// (p, acc_d: head g's, for the thread's dim d).
template <bool AHEAD, int GT>
__device__ __forceinline__ void runs_split_partial(const float* qs, const half* __restrict__ kpool,
                                                   const half* __restrict__ vpool, const int32_t* table, int npos,
                                                   int block_size, int kv_heads, int kvh, int hd, int s,
                                                   SplitScratch (&sh)[GT], Partial (&p)[GT], float (&acc_d)[GT]) {
    const int stream = (threadIdx.x >> 5) % WARPS, d = threadIdx.x % (WARPS * 32);
    const int nchunks = (npos + CHUNK - 1) / CHUNK, c0 = s * (SPLIT / CHUNK), c1 = min(nchunks, c0 + SPLIT / CHUNK);
    const NewKv nkv{nullptr, nullptr, -1};
    float m[GT], l[GT], acc[GT][DPL];
    warp_chunks<AHEAD, false, GT, false>(qs, kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, c0, c1, nkv,
                                         stream, m, l, acc);
    store_warp<GT>(sh, stream, hd, m, l, acc);
    merge_warps<GT>(sh, p, acc_d, hd, d);
}

template <bool AHEAD, int GT, bool SPLITS>
__global__ void __launch_bounds__(RUN_THREADS) attention_runs_kernel(
    const float* __restrict__ q, const half* __restrict__ kpool, const half* __restrict__ vpool,
    const int32_t* __restrict__ token_seq, const int32_t* __restrict__ token_pos,
    const int32_t* __restrict__ block_tables, int max_blocks, int block_size, int heads, int kv_heads, int hd, int run,
    float* __restrict__ ws, half* __restrict__ out) {
    if (!SPLITS) allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    __shared__ __align__(16) float qs[RUN_TILE][GT][MAX_HD];
    __shared__ SplitScratch sh[RUN_TILE][GT];
    const RunTile tile = run_tile(blockIdx.x, run);
    const int h0 = blockIdx.y * GT, kvh = h0 / (heads / kv_heads), s = blockIdx.z, S = gridDim.z;
    const int qi = threadIdx.x / (WARPS * 32), d = threadIdx.x % (WARPS * 32), t = tile.t0 + qi;
    int last = 0;  // the tile's longest context
    for (int i = 0; i < tile.n; ++i) last = max(last, token_pos[tile.t0 + i] + 1);
    if (SPLITS && s >= splits_of(last)) return;  // block-uniform
    {  // the tile's q rows in one pass (load_q's values)
        const float scale = rsqrtf((float)hd);
        for (int i = threadIdx.x; i < tile.n * GT * hd; i += blockDim.x) {
            const int r = i / hd, dd = i % hd;
            qs[r / GT][r % GT][dd] = q[((long)(tile.t0 + r / GT) * heads + h0 + r % GT) * hd + dd] * scale;
        }
        __syncthreads();
    }
    const bool mine = qi < tile.n;  // a tile of fewer tokens: the others' threads walk nothing but meet the barriers
    const int npos = mine ? token_pos[t] + 1 : 0;
    const int32_t* table = block_tables + (long)token_seq[mine ? t : tile.t0] * max_blocks;
    Partial p[GT];
    float acc[GT];
    if constexpr (SPLITS) {
        runs_split_partial<AHEAD, GT>(qs[qi][0], kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, s, sh[qi], p,
                                      acc);
        if (!mine || s >= splits_of(npos)) return;
#pragma unroll
        for (int g = 0; g < GT; ++g) {
            float* dst = ws + (((long)t * heads + h0 + g) * S + s) * (hd + 2);
            if (d < hd) dst[d] = acc[g];
            if (d == 0) { dst[hd] = p[g].m; dst[hd + 1] = p[g].l; }
        }
    } else {
        Partial run_p[GT];
        float run_acc[GT];
        runs_split_partial<AHEAD, GT>(qs[qi][0], kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, 0, sh[qi],
                                      run_p, run_acc);
        for (int sp = 1; sp < splits_of(last); ++sp) {  // block-uniform: every thread meets the barriers
            runs_split_partial<AHEAD, GT>(qs[qi][0], kpool, vpool, table, npos, block_size, kv_heads, kvh, hd, sp,
                                          sh[qi], p, acc);
            if (sp >= splits_of(npos)) continue;
#pragma unroll
            for (int g = 0; g < GT; ++g) merge_split(run_p[g], run_acc[g], p[g], acc[g]);
        }
        if (!mine) return;
#pragma unroll
        for (int g = 0; g < GT; ++g)
            if (d < hd) out[((long)t * heads + h0 + g) * hd + d] = __float2half(run_acc[g] / run_p[g].l);
    }
}

// Split schedule, part 2: block (t, h) merges the token's splits (of `split` positions) in split order.
__global__ void __launch_bounds__(WARPS * 32) attention_merge_kernel(const int32_t* __restrict__ token_pos, int heads,
                                                                   int hd, int S, const float* __restrict__ ws,
                                                                   half* __restrict__ out,
                                                                   const int32_t* __restrict__ token_seq = nullptr,
                                                                   Skip skip = NO_SKIP, int split = SPLIT) {
    allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    const int t = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
    if (tiles_take(skip, token_seq, token_pos, t)) return;
    if (d >= hd) return;
    const float* src = ws + ((long)t * heads + h) * S * (hd + 2);
    Partial run{src[hd], src[hd + 1]};
    float run_acc = src[d];
    for (int s = 1; s < splits_of(token_pos[t] + 1, split); ++s) {
        const float* p = src + (long)s * (hd + 2);
        merge_split(run, run_acc, Partial{p[hd], p[hd + 1]}, p[d]);
    }
    out[((long)t * heads + h) * hd + d] = __float2half(run_acc / run.l);
}

}  // namespace

#include "attention_decode_tiles.cuh"

namespace {

// The q heads of one kv head that a tile takes together: 4, 2 or 1, dividing the group (heads / kv_heads).
int group_tile(int heads, int kv_heads) {
    const int group = heads / kv_heads;
    return group % 4 == 0 ? 4 : group % 2 == 0 ? 2 : 1;
}

// Heads per block of the sequential schedule for a pass of T tokens (head tiles: the heads of one kv head share each
// chunk's K and V loads; the same bits): 4 (or 2) where the one-head grid is past the loads-ahead build's (more blocks
// than fit at once) and the tiled grid still has three blocks per SM, else 1. Measured on the H100 (docs/KERNELS.md,
// session 21): prefill passes of 512-2048 tokens 25-37 % faster, verify passes of 32 x 4 tokens (7.8 tiled blocks per
// SM) 26 % faster; 8 x 4 tokens (1.9 per SM) and decode of 32 sequences lost with tiles. On the H200 (session 23):
// 16 x 4 tokens (3.9 per SM) 26-45 % faster at contexts of 128-8192, 8 x 4 and decode of 16 or 32 sequences slower
// (1.2-3.4x), hence three per SM (four before). QSPEC_ATTENTION_HEAD_TILES=0: never; =all: wherever the heads divide
// (tests). Read at every call.
int head_tile(long T, int heads, int kv_heads) {
    const char* v = getenv("QSPEC_ATTENTION_HEAD_TILES");
    const bool all = v != nullptr && strcmp(v, "all") == 0;
    if (v != nullptr && !all && atoi(v) == 0) return 1;
    const int gt = group_tile(heads, kv_heads);
    if (all) return gt;
    return T * heads > 4L * sm_count() && T * heads / gt >= 3L * sm_count() ? gt : 1;
}

// Head tiles in the split schedule (as head_tile for the sequential one; the same bits): the split schedule runs
// passes of few (token, head) pairs and long contexts, mostly decode of 1-8 sequences, where each block's chain of
// chunk loads is the limit and the 4 q heads of a kv head each load the same K and V. Measured on the H100
// (docs/KERNELS.md, session 24): tiles on the whole grid (=all) make decode of 8 sequences at 2048 positions 2.06x
// faster and 1.5x at 8192 (tiled grids of 256 or more blocks), but 1.5-2x slower where the tiled grid has 16-128
// blocks (512 positions; one sequence at 2048); and the grid follows the largest context the block table allows, not
// the tokens' positions. So by default (unset, or =auto) the choice is per token, on the device
// (attention_split_auto_kernel): on the H100 (session 25) decode of 8 sequences 2.0x faster at 2048 positions and
// 1.4x at 8192, verify of 4 tokens of one sequence 1.3x faster at 8192 (split_tiles_min_blocks). Large passes (2 x SMs
// (token, head) pairs and more, where the workspace holds them) also take the split schedule where the block table
// spans large_from = 2048 positions or more (a runner's table follows its longest sequence), those of fewer than
// 4 x SMs pairs from 2 x large_from. On the H100 (session 26, call 4) verify of 8 x 4 tokens 1.59x faster at 2048
// positions and 2.03x at 8192, of 16 x 4 1.37x / 1.48x, of 32 x 4 1.48x / 1.49x; decode of 32 sequences 1.58x / 1.96x,
// of 16 (512 pairs) 1.38x at 8192 but 7 % slower at 2048 (hence the second threshold); tables of 512 positions and
// less unchanged (at 512 positions 16 sequences had lost up to 1.4x in session 25). QSPEC_ATTENTION_LARGE_SPLIT=N: N
// positions (0: never, as before session 26); =auto-large: at any context; =0: one head a block, and large passes
// never split; =all: tiles on the whole grid (tests). Read at every call.
struct SplitTiles {
    int gt = 1;              // heads per tile (4 or 2), 1: one head a block
    bool per_token = false;  // chosen per token, on the device
    int large_from = 0;      // large passes take the split schedule from tables of this many positions (0: never)
};
SplitTiles split_head_tiles(int heads, int kv_heads) {
    const char* v = getenv("QSPEC_ATTENTION_SPLIT_TILES");
    const int gt = group_tile(heads, kv_heads);
    if (gt == 1 || (v != nullptr && strcmp(v, "0") == 0)) return SplitTiles{};
    if (v != nullptr && strcmp(v, "all") == 0) return SplitTiles{gt, false, 0};
    if (v != nullptr && strcmp(v, "auto-large") == 0) return SplitTiles{gt, true, 1};
    return SplitTiles{gt, true, env_int("QSPEC_ATTENTION_LARGE_SPLIT", 2048)};
}

// The fewest tiled blocks for which attention_split_auto_kernel tiles a token: 2 blocks per SM. On the H100 (session 25,
// docs/KERNELS.md) the per-token kernel lost with 256 tiled blocks (one sequence at 8192 positions 32.4 -> 35.4 us,
// verify of 4 tokens at 2048 30.8 -> 33.2) and won with 512 and more (8 sequences at 2048 80.9 -> 40.6 us); session 24's
// tiles on the whole grid had lost with 128 and won with 256.
long split_tiles_min_blocks() { return 2L * sm_count(); }

// Whether a grid of `blocks` blocks takes the loads-ahead build: where its blocks fit on the GPU at once
// (96-119 registers: 4 blocks per SM), the latency it hides pays; with more blocks the other build's
// occupancy pays more. Measured on the H200 (docs/KERNELS.md). QSPEC_ATTENTION_AHEAD=0 or 1 forces a
// build (read at every call, so a test can compare the two).
bool loads_ahead(long blocks) {
    const char* v = getenv("QSPEC_ATTENTION_AHEAD");
    if (v != nullptr && (v[0] == '0' || v[0] == '1')) return v[0] == '1';
    return blocks <= (long)AHEAD_BLOCKS * sm_count();  // also for =2 (ahead_depth)
}

// Chunks a warp of the split schedule's per-token kernel keeps in flight where it loads ahead (loads_ahead's rule): 1,
// or 2 with QSPEC_ATTENTION_AHEAD=2 (written in session 26 after the device time was spent; not yet measured; the same
// bits).
int ahead_depth() {
    const char* v = getenv("QSPEC_ATTENTION_AHEAD");
    return v != nullptr && v[0] == '2' ? 2 : 1;
}

}  // namespace

namespace {
// The split schedule's partials of T tokens' heads over S splits: (m, l, acc[head_dim]) each.
size_t split_workspace_bytes(int T, int heads, int head_dim, int S) {
    return (size_t)T * heads * S * (head_dim + 2) * sizeof(float);
}
}  // namespace

QSPEC_API size_t qspec_attention_workspace_bytes(int T, int heads, int head_dim, int max_context) {
    if (T <= 0 || heads <= 0 || head_dim <= 0 || max_context <= 0) return 0;
    // the decode tiles' splits may be shorter than the row kernels' (QSPEC_ATTENTION_DECODE_TILES_SPLIT)
    const int split = std::min(SPLIT, dtiles::split_positions());
    return split_workspace_bytes(T, heads, head_dim, splits_of(max_context, split));
}

namespace {

// The decode tiles (attention_decode_tiles.cuh) over a pass whose runs have `run` tokens (1: no hint): groups of up to
// 16 / G tokens of a run; the split schedule where the workspace holds the pass (unless the mode is Sequential), else
// each block walks its splits (the same bits). skip: the tokens left to other kernels.
int launch_decode_tiles(dtiles::Mode mode, const float* q, const half* kp, const half* vp, const int32_t* token_seq,
                        const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T,
                        int heads, int kv_heads, int run, Skip skip, void* workspace, size_t workspace_bytes, half* out,
                        cudaStream_t st) {
    const int per = std::max(1, std::min(run, dtiles::ROWS / (heads / kv_heads)));
    const unsigned groups = (unsigned)dtiles::groups_of(T, run, per);
    const int split_len = dtiles::split_positions();
    const int max_context = max_blocks * block_size, S = splits_of(max_context, split_len);
    // the split schedule where the sequential grid leaves SMs idle: on the H100 (session 37) it won with 64 and 128
    // sequential blocks (8 x 4 tokens at 8192 positions 185 against 437 us; 16 sequences at 8192 270 against 360) and
    // lost with 256 (32 sequences at 8192 505 against 448; 32 x 4 tokens at 2048 189 against 147)
    const bool split = mode != dtiles::Mode::Sequential && S > 1 && (long)groups * kv_heads < sm_count() &&
                       workspace != nullptr &&
                       workspace_bytes >= split_workspace_bytes(T, heads, dtiles::HD, S);
    // groups of one token take the one-token tile unless it is switched off (the same bits)
    const bool one = per == 1 && heads / kv_heads <= 8 && dtiles::one_token_tiles();
    const int warps = dtiles::warps_per_block();
    float* ws = split ? static_cast<float*>(workspace) : nullptr;
    const dim3 grid = split ? dim3(groups, kv_heads, S) : dim3(groups, kv_heads);
    auto launch = [&](auto splits_c, auto one_c, auto warps_c) {
        constexpr bool SPLITS = decltype(splits_c)::value, ONE = decltype(one_c)::value;
        constexpr int W = decltype(warps_c)::value;
        static unsigned long long smem_allowed = 0;  // per instantiation: the attribute is per kernel and device
        const size_t smem = sizeof(dtiles::Scratch<W>);
        if (const int e = allow_dynamic_smem(dtiles::decode_tiles_kernel<SPLITS, ONE, W>, smem, smem_allowed)) return e;
        dtiles::decode_tiles_kernel<SPLITS, ONE, W><<<grid, dtiles::threads_of<W>(), smem, st>>>(
            q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads, kv_heads, run, per,
            split_len, skip, ws, out);
        return qspec_launch_status();
    };
    auto by_warps = [&](auto splits_c, auto one_c) {
        return warps == 8 ? launch(splits_c, one_c, std::integral_constant<int, 8>{})
                          : launch(splits_c, one_c, std::integral_constant<int, 4>{});
    };
    auto by_one = [&](auto splits_c) {
        return one ? by_warps(splits_c, std::true_type{}) : by_warps(splits_c, std::false_type{});
    };
    if (!split) return by_one(std::false_type{});
    const int e = by_one(std::true_type{});
    if (e != 0) return e;
    attention_merge_kernel<<<dim3(T, heads), WARPS * 32, 0, st>>>(token_pos, heads, dtiles::HD, S, ws, out, token_seq,
                                                                  skip, split_len);
    return qspec_launch_status();
}

// The row kernels: the schedule and build by the pass's shape, then the plain (ROPE false: q rotated already, the
// new k and v in the pool) or the fused kernels. skip: the tokens left to other kernels.
template <bool ROPE>
int launch_rows(const float* q, const half* kp, const half* vp, const int32_t* token_seq, const int32_t* token_pos,
                const int32_t* block_tables, int max_blocks, int block_size, int T, int heads, int kv_heads,
                int head_dim, const Rope& rope, void* workspace, size_t workspace_bytes, half* out, cudaStream_t st,
                Skip skip = NO_SKIP) {
    // The split schedule pays when (token, head) pairs are too few to fill the GPU and contexts can
    // be long; either schedule gives the same bits. Large passes take it too where the table spans large_from
    // positions (split_head_tiles): a sequential block walks all of its token's splits, up to 32 in a chain at
    // 8192 positions, where the tiled split blocks share each chunk's loads among 4 heads.
    const int max_context = max_blocks * block_size, S = splits_of(max_context);
    const SplitTiles tiles = ROPE ? SplitTiles{} : split_head_tiles(heads, kv_heads);
    const bool large = tiles.large_from > 0 && max_context >= tiles.large_from &&
                       ((long)T * heads >= 4L * sm_count() || max_context >= 2 * tiles.large_from);
    // (skip: every block of a skipped token exits at once)
    const bool split = S > 1 && ((long)T * heads < 2L * sm_count() || large) && workspace != nullptr &&
                       workspace_bytes >= qspec_attention_workspace_bytes(T, heads, head_dim, max_context);
    if (split) {
        float* ws = static_cast<float*>(workspace);
        const int gt = tiles.gt;
        // the loads-ahead build by the tiled grid (as tokens at the largest context would run it)
        const bool ahead = loads_ahead((long)T * (heads / gt) * S);
        if (tiles.per_token) {
            const int depth = ahead ? ahead_depth() : 0;
            auto kernel = gt == 4 ? (depth == 2   ? attention_split_auto_kernel<2, 4>
                                     : depth == 1 ? attention_split_auto_kernel<1, 4>
                                                  : attention_split_auto_kernel<0, 4>)
                                  : (depth == 2   ? attention_split_auto_kernel<2, 2>
                                     : depth == 1 ? attention_split_auto_kernel<1, 2>
                                                  : attention_split_auto_kernel<0, 2>);
            kernel<<<dim3(T, heads, S), WARPS * 32, 0, st>>>(q, kp, vp, token_seq, token_pos, block_tables, max_blocks,
                                                             block_size, heads, kv_heads, head_dim,
                                                             split_tiles_min_blocks(), ws, skip);
        } else {
            auto kernel = ahead ? attention_split_kernel<true, ROPE> : attention_split_kernel<false, ROPE>;
            if constexpr (!ROPE) {
                if (gt == 4) kernel = ahead ? attention_split_kernel<true, false, 4> : attention_split_kernel<false, false, 4>;
                if (gt == 2) kernel = ahead ? attention_split_kernel<true, false, 2> : attention_split_kernel<false, false, 2>;
            }
            kernel<<<dim3(T, heads / gt, S), WARPS * 32, 0, st>>>(q, kp, vp, token_seq, token_pos, block_tables,
                                                                  max_blocks, block_size, heads, kv_heads, head_dim,
                                                                  rope, ws, skip);
        }
        const int e = qspec_launch_status();
        if (e != 0) return e;
        attention_merge_kernel<<<dim3(T, heads), WARPS * 32, 0, st>>>(token_pos, heads, head_dim, S, ws, out,
                                                                      token_seq, skip);
        return qspec_launch_status();
    }
    if constexpr (!ROPE) {
        const int gt = head_tile(T, heads, kv_heads);
        if (gt > 1) {
            (gt == 4 ? attention_kernel<false, false, 4> : attention_kernel<false, false, 2>)
                <<<dim3(T, heads / gt), WARPS * 32, 0, st>>>(q, kp, vp, token_seq, token_pos, block_tables, max_blocks,
                                                            block_size, heads, kv_heads, head_dim, rope, out, skip);
            return qspec_launch_status();
        }
    }
    const dim3 grid(T, heads);
    (loads_ahead((long)T * heads) ? attention_kernel<true, ROPE> : attention_kernel<false, ROPE>)
        <<<grid, WARPS * 32, 0, st>>>(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, heads,
                                      kv_heads, head_dim, rope, out, skip);
    return qspec_launch_status();
}

// What the caller knows of a pass's contexts (qspec_attention_pass): each token's context (position + 1) lies in
// [min, max]. Used only to leave out a kernel that would find no token (launch_attention).
struct Contexts {
    int min = 0, max = INT_MAX;
};

// qspec_attention's and qspec_attention_runs' passes (q rotated, the new k and v in the pool): the decode tiles for the
// tokens in their range (run: the pass's runs, 1 without a hint), the row kernels for the others; long_runs: the prefill
// tiles take the tokens of long runs. The tiles are not launched where no context can reach their range (the table
// spans fewer positions, or the caller's bound says so), nor the row kernels where the tiles take every token (their
// mode, or the caller's bound); then the one kernel launched takes every token, so a token outside the caller's
// bounds is still computed.
int launch_attention(const float* q, const half* kp, const half* vp, const int32_t* token_seq, const int32_t* token_pos,
                     const int32_t* block_tables, int max_blocks, int block_size, int T, int heads, int kv_heads,
                     int head_dim, int run, bool long_runs, Contexts known, void* workspace, size_t workspace_bytes,
                     half* out, cudaStream_t st) {
    const dtiles::Mode mode = dtiles::mode(heads, kv_heads, head_dim);
    const int from = dtiles::from_positions(mode);
    const bool tiles = mode != dtiles::Mode::Off && std::min(max_blocks * block_size, known.max) >= from;
    const bool rows = !tiles || known.min < from;
    if (tiles) {
        const int e = launch_decode_tiles(mode, q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size,
                                          T, heads, kv_heads, run, Skip{long_runs, rows ? from : 0, INT_MAX},
                                          workspace, workspace_bytes, out, st);
        if (e != 0 || !rows) return e;
    }
    return launch_rows<false>(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads, kv_heads,
                              head_dim, Rope{}, workspace, workspace_bytes, out, st,
                              Skip{long_runs, 0, tiles ? from : INT_MAX});
}

// Whether a pass takes the prefill tiles (attention_tiles.cuh) for its long runs' tokens: T >= MIN_RUN tokens (a long run
// needs that many), a head size they serve, and QSPEC_ATTENTION_PREFILL_TILES not 0 (read at every call).
bool prefill_tiles_apply(int T, int head_dim) {
    const char* v = getenv("QSPEC_ATTENTION_PREFILL_TILES");
    if (v != nullptr && strcmp(v, "0") == 0) return false;
    return T >= tiles::MIN_RUN && tiles::head_dim_supported(head_dim);
}

// qspec_attention's pass: the prefill tiles for the tokens of long runs (all_long: the caller knows every token is in
// one), the row kernels for the others (their blocks for long runs' tokens exit at once).
int launch_attention_tiled(const float* q, const half* kp, const half* vp, const int32_t* token_seq,
                           const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T,
                           int heads, int kv_heads, int head_dim, bool all_long, Contexts known, void* workspace,
                           size_t workspace_bytes, half* out, cudaStream_t st) {
    const int e = tiles::launch(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads,
                                kv_heads, head_dim, all_long, out, st);
    if (e != 0 || all_long) return e;
    return launch_attention(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads, kv_heads,
                            head_dim, 1, true, known, workspace, workspace_bytes, out, st);
}

// The schedule of a verify pass's query tiles (qspec_attention_runs; opt-in). Unset or QSPEC_ATTENTION_RUNS=0: none
// (qspec_attention's schedules); =seq: block (tile, kv head) walks the tokens' splits; =split: block (tile, kv head,
// split) and the merge, where the workspace holds the pass; =auto: split where the workspace holds the pass (a tile's
// block has 16 warps, one per SM at these registers, so the sequential grid fills the GPU only with 132 tiles x kv
// heads, and then with a chain of all the splits), else sequential. The two layouts measured on the H100 (session 26,
// docs/KERNELS.md) lost except on verify of 8 x 4 tokens at 2048 positions; this one (four warps per token, the tile's
// tokens in one block) was written after the device time was spent and is not yet measured. Read at every call.
enum class RunSchedule { Off, Sequential, Split };
RunSchedule run_schedule(int S, bool workspace_holds) {
    const char* v = getenv("QSPEC_ATTENTION_RUNS");
    if (v == nullptr || strcmp(v, "0") == 0) return RunSchedule::Off;
    const bool can_split = S > 1 && workspace_holds;
    if (strcmp(v, "seq") == 0) return RunSchedule::Sequential;
    return can_split ? RunSchedule::Split : RunSchedule::Sequential;  // =split, =auto
}

int launch_attention_runs(const float* q, const half* kp, const half* vp, const int32_t* token_seq,
                          const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T,
                          int heads, int kv_heads, int head_dim, int run, void* workspace, size_t workspace_bytes,
                          half* out, cudaStream_t st) {
    const int gt = group_tile(heads, kv_heads);
    const int max_context = max_blocks * block_size, S = splits_of(max_context);
    const long tiles = run_tiles(T, run), seq_blocks = tiles * (heads / gt);
    const bool holds = workspace != nullptr &&
                       workspace_bytes >= qspec_attention_workspace_bytes(T, heads, head_dim, max_context);
    const RunSchedule schedule = run_schedule(S, holds);
    if (schedule == RunSchedule::Off)
        return launch_rows<false>(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads,
                                  kv_heads, head_dim, Rope{}, workspace, workspace_bytes, out, st);
    const bool split = schedule == RunSchedule::Split;
    const long blocks = seq_blocks * (split ? S : 1);
    const bool ahead = loads_ahead(blocks * RUN_TILE);  // as for as many blocks of one query
    using Kernel = void (*)(const float*, const half*, const half*, const int32_t*, const int32_t*, const int32_t*, int,
                            int, int, int, int, int, float*, half*);
    Kernel kernel;
    if (gt == 4)
        kernel = split ? (ahead ? attention_runs_kernel<true, 4, true> : attention_runs_kernel<false, 4, true>)
                       : (ahead ? attention_runs_kernel<true, 4, false> : attention_runs_kernel<false, 4, false>);
    else if (gt == 2)
        kernel = split ? (ahead ? attention_runs_kernel<true, 2, true> : attention_runs_kernel<false, 2, true>)
                       : (ahead ? attention_runs_kernel<true, 2, false> : attention_runs_kernel<false, 2, false>);
    else
        kernel = split ? (ahead ? attention_runs_kernel<true, 1, true> : attention_runs_kernel<false, 1, true>)
                       : (ahead ? attention_runs_kernel<true, 1, false> : attention_runs_kernel<false, 1, false>);
    float* ws = split ? static_cast<float*>(workspace) : nullptr;
    kernel<<<dim3((unsigned)tiles, heads / gt, split ? S : 1), RUN_THREADS, 0, st>>>(
        q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, heads, kv_heads, head_dim, run, ws, out);
    const int e = qspec_launch_status();
    if (e != 0 || !split) return e;
    attention_merge_kernel<<<dim3(T, heads), WARPS * 32, 0, st>>>(token_pos, heads, head_dim, S, ws, out);
    return qspec_launch_status();
}

bool attention_shape_supported(int heads, int kv_heads, int head_dim) {
    return head_dim > 0 && head_dim <= MAX_HD && head_dim % 8 == 0 && kv_heads > 0 && heads % kv_heads == 0;
}

// qspec_attention (run 0), qspec_attention_runs (run > 0) and qspec_attention_pass (both, with the caller's bounds).
int attention_entry(const float* q, const void* k_pool_f16, const void* v_pool_f16, const int32_t* token_seq,
                    const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T,
                    int heads, int kv_heads, int head_dim, int run, Contexts known, void* workspace,
                    size_t workspace_bytes, void* out_f16, qspec_stream_t stream) {
    if (!attention_shape_supported(heads, kv_heads, head_dim)) return QSPEC_ERR_UNSUPPORTED;
    if (run < 0 || (run > 0 && T > 0 && T % run != 0)) return QSPEC_ERR_UNSUPPORTED;
    if (T <= 0) return 0;
    const half* kp = static_cast<const half*>(k_pool_f16);
    const half* vp = static_cast<const half*>(v_pool_f16);
    half* out = static_cast<half*>(out_f16);
    const cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
    if (run == 0) {  // no hint: the prefill tiles for the tokens of long runs, if the pass can have one
        if (prefill_tiles_apply(T, head_dim))
            return launch_attention_tiled(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T,
                                          heads, kv_heads, head_dim, false, known, workspace, workspace_bytes, out, st);
        return launch_attention(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads,
                                kv_heads, head_dim, 1, false, known, workspace, workspace_bytes, out, st);
    }
    if (run >= tiles::MIN_RUN && prefill_tiles_apply(T, head_dim))  // every token in a long run: the tiles alone
        return launch_attention_tiled(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads,
                                      kv_heads, head_dim, true, known, workspace, workspace_bytes, out, st);
    if (dtiles::mode(heads, kv_heads, head_dim) != dtiles::Mode::Off)  // a run's tokens share each chunk's K and V
        return launch_attention(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads,
                                kv_heads, head_dim, run, false, known, workspace, workspace_bytes, out, st);
    if (run == 1 || run > MAX_RUN)  // (runs of 2-63 tokens have no long run)
        return launch_rows<false>(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads,
                                  kv_heads, head_dim, Rope{}, workspace, workspace_bytes, out, st);
    return launch_attention_runs(q, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads,
                                 kv_heads, head_dim, run, workspace, workspace_bytes, out, st);
}

}  // namespace

QSPEC_API int qspec_attention(const float* q, const void* k_pool_f16, const void* v_pool_f16,
                              const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                              int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim,
                              void* workspace, size_t workspace_bytes, void* out_f16, qspec_stream_t stream) {
    return attention_entry(q, k_pool_f16, v_pool_f16, token_seq, token_pos, block_tables, max_blocks, block_size, T,
                           heads, kv_heads, head_dim, 0, Contexts{}, workspace, workspace_bytes, out_f16, stream);
}

QSPEC_API int qspec_attention_runs(const float* q, const void* k_pool_f16, const void* v_pool_f16,
                                   const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                                   int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim, int run,
                                   void* workspace, size_t workspace_bytes, void* out_f16, qspec_stream_t stream) {
    if (run <= 0) return QSPEC_ERR_UNSUPPORTED;
    return attention_entry(q, k_pool_f16, v_pool_f16, token_seq, token_pos, block_tables, max_blocks, block_size, T,
                           heads, kv_heads, head_dim, run, Contexts{}, workspace, workspace_bytes, out_f16, stream);
}

QSPEC_API int qspec_attention_pass(const float* q, const void* k_pool_f16, const void* v_pool_f16,
                                   const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                                   int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim, int run,
                                   int min_context, int max_context, void* workspace, size_t workspace_bytes,
                                   void* out_f16, qspec_stream_t stream) {
    if (min_context < 0 || max_context < 0 || (max_context > 0 && min_context > max_context))
        return QSPEC_ERR_UNSUPPORTED;
    const Contexts known{min_context, max_context > 0 ? max_context : INT_MAX};
    return attention_entry(q, k_pool_f16, v_pool_f16, token_seq, token_pos, block_tables, max_blocks, block_size, T,
                           heads, kv_heads, head_dim, run, known, workspace, workspace_bytes, out_f16, stream);
}

QSPEC_API int qspec_attention_decode_tiles_from(int heads, int kv_heads, int head_dim) {
    if (!attention_shape_supported(heads, kv_heads, head_dim)) return -1;
    const dtiles::Mode mode = dtiles::mode(heads, kv_heads, head_dim);
    return mode == dtiles::Mode::Off ? -1 : std::max(0, dtiles::from_positions(mode));
}

QSPEC_API int qspec_rope_attention(const float* qkv, int ld, void* k_pool_f16, void* v_pool_f16,
                                   const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                                   int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim,
                                   const float* inv_freq, int rope_style, void* workspace, size_t workspace_bytes,
                                   void* out_f16, qspec_stream_t stream) {
    if (!attention_shape_supported(heads, kv_heads, head_dim) || (rope_style != 0 && rope_style != 1))
        return QSPEC_ERR_UNSUPPORTED;
    if (ld < (heads + 2 * kv_heads) * head_dim) return QSPEC_ERR_UNSUPPORTED;
    // the decode tiles' bits are not the row kernels': where they may take a token, a decode through this build would
    // not match its verify
    const dtiles::Mode tiles_mode = dtiles::mode(heads, kv_heads, head_dim);
    if (tiles_mode != dtiles::Mode::Off && max_blocks * block_size >= dtiles::from_positions(tiles_mode))
        return QSPEC_ERR_UNSUPPORTED;
    if (T <= 0) return 0;
    half* kp = static_cast<half*>(k_pool_f16);
    half* vp = static_cast<half*>(v_pool_f16);
    return launch_rows<true>(qkv, kp, vp, token_seq, token_pos, block_tables, max_blocks, block_size, T, heads,
                             kv_heads, head_dim, Rope{qkv, ld, inv_freq, rope_style, kp, vp}, workspace,
                             workspace_bytes, static_cast<half*>(out_f16), reinterpret_cast<cudaStream_t>(stream));
}
