// Decode tiles: decode and verify attention on the tensor cores (QSPEC_ATTENTION_DECODE_TILES; on by default for tokens
// of 512 positions or more: they win from about 1700 positions for one sequence's decode, from about 800 for a
// verify run of one sequence, from 512 or less for batches of 8 and more, and lose for one sequence at short contexts;
// docs/KERNELS.md "Decode tiles"), included by attention.cu
// after the pieces it shares with the row kernels (Paging, Partial, merge_split, splits_of, Skip, the split workspace
// and its merge kernel).
//
// The row kernels give each (token, head) its own CUDA-core dot products: a warp's chunk of 8 positions costs some 400
// instructions for the 4 heads of a kv head, 65 of them the multiply-adds, and a verify pass reads each K/V row once
// per token of the run. Here the (token, head) pairs of one kv head and up to 16 / G tokens of one sequence (G = heads /
// kv_heads: the 4 heads of Llama-3-8B, and the gamma + 1 = 4 tokens of a verify run) are the 16 rows of an mma.sync
// tile, so each chunk's K and V rows are read once for all of them. A block takes one split (SPLIT positions) of such a
// group, or walks all of its splits; its 4 warps (8 with QSPEC_ATTENTION_DECODE_TILES_WARPS=8) take chunks of 8
// positions in turn, as the row kernels' warps do:
//  - S = Q K^T on m16n8k16 (fp16 in, fp32 sums). Lane (g, t) holds rows g and g + 8 of Q and position g of the chunk's
//    K, dims 32 t .. 32 t + 31 of both: k step s takes dims 32 t + 4 s .. + 3 in the MMA's k slots 2t, 2t+1, 2t+8,
//    2t+9. The k slots' order is a permutation of the dims, the same for Q and K, so no shuffle or shared memory.
//  - an online softmax per row in fp32 (natural base, as the split merge's);
//  - O += P V on m16n8k8: P is the score fragment itself (rows g, g + 8; positions 2t, 2t + 1), rounded to fp16; V's
//    B fragment pairs positions 2t and 2t + 1 of one dim, so lane (g, t) loads dims 16 g .. 16 g + 15 of those two
//    rows and interleaves them with byte permutes; n tile u then holds dim 16 g' + u in column g'.
// The warps' states are merged in warp order and the splits in split order (merge_split), as the row kernels'.
//
// A row's result depends on its own q, position and context only, as the prefill tiles argue (attention_tiles.cuh): an
// MMA row never mixes with another, and a chunk past a row's last position leaves its max, sum and output exactly as
// they were (a factor exp(0) = 1, products with p = 0). So a verify token gets the bits of its decode, and a token's
// attention does not depend on the other tokens of the pass. The bits are not the row kernels' (fp16 q and p), so the
// switch must hold for a whole generation, and where it leaves some tokens to the row kernels (mode From) the choice
// follows each token's own position; the fused RoPE build (qspec_rope_attention) keeps the row kernels' arithmetic and
// refuses to run where the tiles may take a token.
#pragma once

namespace dtiles {

constexpr int HD = 128;                // the head size served
constexpr int ROWS = 16;               // (token, head) rows of a tile
// Warps a block: 4 (the row kernels' count, the default) or 8 (QSPEC_ATTENTION_DECODE_TILES_WARPS=8: twice the chains of
// loads a block for one sequence's short contexts, one block an SM). A token's bits follow the count (chunk c goes to
// warp c mod W, the warps merge in order), so, like the split, it must hold for a whole generation.
template <int W>
__host__ __device__ constexpr int threads_of() { return W * 32; }

// A group: tokens t0 .. t0 + n - 1 of the pass, consecutive tokens of one run (verify) or one token (decode).
struct Group {
    int t0, n;
};
// Group b of a pass whose runs have `run` tokens, `per` tokens a group.
__device__ __forceinline__ Group group_of(int b, int run, int per) {
    const int parts = (run + per - 1) / per, r = b / parts, j = b % parts;
    return Group{r * run + j * per, min(per, run - j * per)};
}
inline long groups_of(long T, int run, int per) { return T / run * ((run + per - 1) / per); }

// A warp's states of its 16 rows for one split, and their merge: shared memory of the block. wacc's dims are swizzled
// (phys) so that the warps' stores (lanes 32 dims apart) and the merge's loads (consecutive dims) meet no bank conflict.
// Dynamic shared memory (8 warps' take 66 KB, past the 48 KB of static shared memory).
template <int W>
struct Scratch {
    float wm[W][ROWS], wl[W][ROWS];
    float wacc[W][ROWS][HD];
};
__device__ __forceinline__ int phys(int r, int d) { return (d & ~31) | ((d & 31) ^ (((r & 7) + 8 * (d >> 5)) & 31)); }

// A walk's rows, worked out once by thread r: the context (0 for a row outside the walk), token, head and splits.
struct Rows {
    int npos[ROWS], tok[ROWS], head[ROWS], nsplits[ROWS];
};
// A split's merge, the per-row part done once by thread r (not by every thread of the block, each for its own dim: the
// epilogue of one sequence's short contexts was most of a block's instructions): each warp's factor e and the split's
// (m, l), as merge_warps computes them; in the sequential schedule the running (m, l) of the splits so far and the
// factors a (the run's) and b (this split's) of merge_split. The same arithmetic in the same order as before: the bits
// do not move.
template <int W>
struct Merge {
    float e[ROWS][W];
    float run_m[ROWS], run_l[ROWS], a[ROWS], b[ROWS];
};

// 32-bit word i of a 16-byte load (i known at compile time after unrolling).
__device__ __forceinline__ uint32_t word(const uint4& v, int i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }

// What lane (g, t) loads of a chunk: position g's K dims 32 t .. + 31, and positions 2t and 2t + 1's V dims 16 g .. +
// 15. Positions at or past npos (the group's longest context) are zeros, never read.
struct Loads {
    uint4 k[4], va[2], vb[2];
};

__device__ __forceinline__ void load_chunk(const half* __restrict__ kpool, const half* __restrict__ vpool,
                                           const int32_t* table, const Paging& pg, int npos, int c, Loads& L) {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, base = c * CHUNK;
    const uint4 zero = make_uint4(0, 0, 0, 0);
    const bool ok = base + g < npos;
    const long off = ok ? pg.offset(table, base + g) : 0;
    const uint4* kr = reinterpret_cast<const uint4*>(kpool + off + 32 * t);
#pragma unroll
    for (int j = 0; j < 4; ++j) L.k[j] = ok ? kr[j] : zero;
    // position j's offset is held by lanes 4 j .. 4 j + 3
    const long oa = __shfl_sync(0xffffffffu, off, 8 * t), ob = __shfl_sync(0xffffffffu, off, 8 * t + 4);
    const bool oka = base + 2 * t < npos, okb = base + 2 * t + 1 < npos;
    const uint4* va = reinterpret_cast<const uint4*>(vpool + oa + 16 * g);
    const uint4* vb = reinterpret_cast<const uint4*>(vpool + ob + 16 * g);
#pragma unroll
    for (int j = 0; j < 2; ++j) {
        L.va[j] = oka ? va[j] : zero;
        L.vb[j] = okb ? vb[j] : zero;
    }
}

// A warp's running state of its two rows (g, g + 8): max, this lane's share of the sum, and O (n tile u: dims 32 t + u
// and 32 t + 16 + u of row g in o[u][0..1], of row g + 8 in o[u][2..3]).
struct WarpState {
    float m0, m1, l0, l1;
    float o[HD / 8][4];
};

// One chunk (base position `base`, loads L) into the warp's state; npos0 / npos1: the contexts of rows g and g + 8
// (0 for a row outside the pass).
__device__ __forceinline__ void attend_chunk(const uint32_t (&qa)[HD / 16][4], const Loads& L, int base, int npos0,
                                             int npos1, WarpState& w) {
    const int lane = threadIdx.x & 31, t = lane & 3;
    float sc[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
    for (int s = 0; s < HD / 16; ++s)
        mma_f16(sc, qa[s], word(L.k[s >> 1], 2 * (s & 1)), word(L.k[s >> 1], 2 * (s & 1) + 1));
    const int p0 = base + 2 * t;
    if (p0 >= npos0) sc[0] = -INFINITY;
    if (p0 + 1 >= npos0) sc[1] = -INFINITY;
    if (p0 >= npos1) sc[2] = -INFINITY;
    if (p0 + 1 >= npos1) sc[3] = -INFINITY;
    float mx0 = fmaxf(sc[0], sc[1]), mx1 = fmaxf(sc[2], sc[3]);
#pragma unroll
    for (int x = 1; x <= 2; x <<= 1) {
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, x));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, x));
    }
    // a row with no position yet keeps max -inf, sum 0 and O 0 (its factors below are 0 and its p 0)
    const float mn0 = fmaxf(w.m0, mx0), mn1 = fmaxf(w.m1, mx1);
    const float ms0 = mn0 == -INFINITY ? 0.f : mn0, ms1 = mn1 == -INFINITY ? 0.f : mn1;
    const float c0 = __expf(w.m0 - ms0), c1 = __expf(w.m1 - ms1);
    const float e0 = __expf(sc[0] - ms0), e1 = __expf(sc[1] - ms0), e2 = __expf(sc[2] - ms1), e3 = __expf(sc[3] - ms1);
    w.m0 = mn0;
    w.m1 = mn1;
    w.l0 = fmaf(w.l0, c0, e0 + e1);
    w.l1 = fmaf(w.l1, c1, e2 + e3);
    // a factor of 1 changes nothing: skipped where every lane's is 1 (late in a context, most chunks)
    if (__any_sync(0xffffffffu, c0 != 1.f || c1 != 1.f)) {
#pragma unroll
        for (int u = 0; u < HD / 8; ++u) {
            w.o[u][0] *= c0;
            w.o[u][1] *= c0;
            w.o[u][2] *= c1;
            w.o[u][3] *= c1;
        }
    }
    const uint32_t pa0 = pack_half2(e0, e1), pa1 = pack_half2(e2, e3);
#pragma unroll
    for (int u = 0; u < HD / 8; ++u) {
        const int wd = u >> 1;  // the 32-bit word of dims 16 g + 2 wd, + 1 in each of the two V rows
        const uint32_t a = word(L.va[wd >> 2], wd & 3), b = word(L.vb[wd >> 2], wd & 3);
        mma_f16_k8(w.o[u], pa0, pa1, __byte_perm(a, b, (u & 1) ? 0x7632 : 0x5410));
    }
}

// The first chunk's loads of a warp's chunks c, c + W, ... below c1 (walk's a0), issued by the kernel before Q's.
__device__ __forceinline__ void start(const half* __restrict__ kpool, const half* __restrict__ vpool,
                                      const int32_t* table, const Paging& pg, int npos, int c, int c1, Loads& a0) {
    if (c < c1) load_chunk(kpool, vpool, table, pg, npos, c, a0);
}
// A warp's chunks c, c + W, ... below c1 into its state, from the first chunk's loads a0 (start); the next chunk's K
// and V are in flight while one is computed. Two chunks a turn, the two sets of loads trading roles instead of being
// copied, as walk_one's. (Session 37's call 2 had measured two sets taking turns without copies no faster; with the
// first loads ahead of Q's too, session 44 measured verify runs 3-11 % faster from 1024 positions.)
template <int W>
__device__ __forceinline__ void walk(const uint32_t (&qa)[HD / 16][4], const half* __restrict__ kpool,
                                     const half* __restrict__ vpool, const int32_t* table, const Paging& pg, int npos,
                                     int c, int c1, int npos0, int npos1, Loads& a0, WarpState& w) {
    Loads a1;
    for (; c < c1; c += 2 * W) {
        if (c + W < c1) load_chunk(kpool, vpool, table, pg, npos, c + W, a1);
        attend_chunk(qa, a0, c * CHUNK, npos0, npos1, w);
        if (c + W >= c1) break;
        if (c + 2 * W < c1) load_chunk(kpool, vpool, table, pg, npos, c + 2 * W, a0);
        attend_chunk(qa, a1, (c + W) * CHUNK, npos0, npos1, w);
    }
}

// ---- The one-token tile (ONE; on by default, QSPEC_ATTENTION_DECODE_TILES_ONE=0 turns it off): a decode group (one
// token, G <= 8 heads) with K as the A operand. The 16-row tile spends 12 of its rows on nothing when a group is one
// token of G = 4 heads. Here the MMA's rows are positions and its 8 columns the token's heads: S^T = K Q^T takes two
// chunks of the warp (c and c + W, rows g and g + 8) in one set of m16n8k16 MMAs, and O^T = V^T P^T + O^T takes
// m16n8k8 MMAs of 16 dims each, so a chunk costs half the MMAs and half the softmax lanes. Each output keeps the 16-row
// tile's bits, as an MMA's sums do not depend on which operand a value sits in (mma_operands.cu: the same bits on the
// H100 in session 41, 2^26 outputs of each of four kinds of fp16 data, both shapes): the same products meet in the
// same k slots (Q's and K's dims in the same order; P's and V's positions 2t, 2t + 1), and the softmax takes the same
// steps in the same order (chunk c, then c + W, ...), with each lane's share of a sum the pair of positions
// (2j, 2j + 1) the 16-row tile's lane j holds, added in its order.

// A warp's state of the token's heads 2t and 2t + 1 (columns): max, this lane's share of the sum (lanes g = 2j and
// 2j + 1 both hold the share of positions 2j, 2j + 1 of each chunk), and O^T (MMA u: dims 16 g + 2u in o[u][0..1],
// 16 g + 2u + 1 in o[u][2..3]; heads 2t in o[u][0], o[u][2], 2t + 1 in o[u][1], o[u][3]).
struct ColState {
    float m[2], l[2];
    float o[HD / 16][4];
};

// The 8 x 8 matrix of 16-bit values whose row g, columns 2t, 2t + 1 lane (g, t) holds, transposed across the warp.
__device__ __forceinline__ uint32_t transpose8x8(uint32_t a) {
    uint32_t d;
    asm volatile("movmatrix.sync.aligned.m8n8.trans.b16 %0, %1;" : "=r"(d) : "r"(a));
    return d;
}

// One chunk (its loads L) into the state: s0, s1 the scores of position `pos` (= the chunk's base + g) with heads 2t and
// 2t + 1, whose contexts are np0 and np1 (0 for a column outside the token). attend_chunk's arithmetic, column-wise.
__device__ __forceinline__ void attend_chunk_one(float s0, float s1, int pos, int np0, int np1, const Loads& L,
                                                 ColState& w) {
    if (pos >= np0) s0 = -INFINITY;
    if (pos >= np1) s1 = -INFINITY;
    float mx0 = s0, mx1 = s1;
#pragma unroll
    for (int x = 4; x <= 16; x <<= 1) {
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, x));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, x));
    }
    const float mn0 = fmaxf(w.m[0], mx0), mn1 = fmaxf(w.m[1], mx1);
    const float ms0 = mn0 == -INFINITY ? 0.f : mn0, ms1 = mn1 == -INFINITY ? 0.f : mn1;
    const float c0 = __expf(w.m[0] - ms0), c1 = __expf(w.m[1] - ms1);
    const float e0 = __expf(s0 - ms0), e1 = __expf(s1 - ms1);
    w.m[0] = mn0;
    w.m[1] = mn1;
    // the 16-row tile's e0 + e1 of positions 2j, 2j + 1: this lane's and its partner's (g ^ 1), the same sum either way
    w.l[0] = fmaf(w.l[0], c0, e0 + __shfl_xor_sync(0xffffffffu, e0, 4));
    w.l[1] = fmaf(w.l[1], c1, e1 + __shfl_xor_sync(0xffffffffu, e1, 4));
    // (a column outside the token, factor 0 at every chunk, holds zeros and is never read: it does not count)
    if (__any_sync(0xffffffffu, (np0 > 0 && c0 != 1.f) || (np1 > 0 && c1 != 1.f))) {
#pragma unroll
        for (int u = 0; u < HD / 16; ++u) {
            w.o[u][0] *= c0;
            w.o[u][1] *= c1;
            w.o[u][2] *= c0;
            w.o[u][3] *= c1;
        }
    }
    // P^T's B fragment (positions 2t, 2t + 1 of head g) from P's rows (position g, heads 2t, 2t + 1)
    const uint32_t pb = transpose8x8(pack_half2(e0, e1));
#pragma unroll
    for (int u = 0; u < HD / 16; ++u) {  // V^T's rows: dims 16 g + 2u (low halves) and + 1 (high) of positions 2t, 2t + 1
        const uint32_t a = word(L.va[u >> 2], u & 3), b = word(L.vb[u >> 2], u & 3);
        mma_f16_k8(w.o[u], __byte_perm(a, b, 0x5410), __byte_perm(a, b, 0x7632), pb);
    }
}

// One step of walk_one: chunks c and c + W (the MMA's rows g and g + 8) from their loads a and b into the state, with
// the next step's chunks c + 2W and c + 3W loading into na and nb meanwhile.
template <int W>
__device__ __forceinline__ void step_one(const uint32_t (&qb)[HD / 16][2], const half* __restrict__ kpool,
                                         const half* __restrict__ vpool, const int32_t* table, const Paging& pg,
                                         int npos, int c, int c1, int np0, int np1, const Loads& a, const Loads& b,
                                         Loads& na, Loads& nb, ColState& w) {
    const int g = (threadIdx.x & 31) >> 2, cn = c + 2 * W;
    if (cn < c1) load_chunk(kpool, vpool, table, pg, npos, cn, na);
    if (cn + W < c1) load_chunk(kpool, vpool, table, pg, npos, cn + W, nb);
    const bool two = c + W < c1;  // warp-uniform
    float sc[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
    for (int s = 0; s < HD / 16; ++s) {
        const uint32_t ka[4] = {word(a.k[s >> 1], 2 * (s & 1)), word(b.k[s >> 1], 2 * (s & 1)),
                                word(a.k[s >> 1], 2 * (s & 1) + 1), word(b.k[s >> 1], 2 * (s & 1) + 1)};
        mma_f16(sc, ka, qb[s][0], qb[s][1]);
    }
    attend_chunk_one(sc[0], sc[1], c * CHUNK + g, np0, np1, a, w);
    if (two) attend_chunk_one(sc[2], sc[3], (c + W) * CHUNK + g, np0, np1, b, w);
}

// The first step's loads of a warp's chunks c, c + W, ... below c1 (walk_one's a0 and b0), issued by the kernel before
// it loads Q, so that the two latencies overlap (session 43's profile: 6 % of the samples waited on Q's load).
template <int W>
__device__ __forceinline__ void start_one(const half* __restrict__ kpool, const half* __restrict__ vpool,
                                          const int32_t* table, const Paging& pg, int npos, int c, int c1, Loads& a0,
                                          Loads& b0) {
    if (c < c1) load_chunk(kpool, vpool, table, pg, npos, c, a0);
    if (c + W < c1) load_chunk(kpool, vpool, table, pg, npos, c + W, b0);
}

// A warp's chunks c, c + W, ... below c1, two at a time, into its state, from the first step's loads a0 and b0
// (start_one); the next two chunks' K and V are in flight while two are computed. The loop takes two steps a turn, so
// that the two sets of loads trade roles instead of being copied (session 43's profile: the copies were 64 of a step's
// ~450 instructions, and each waited for the loads just issued). qb: Q^T's B fragments (head g, dims 32 t + 4 s .. + 3).
template <int W>
__device__ __forceinline__ void walk_one(const uint32_t (&qb)[HD / 16][2], const half* __restrict__ kpool,
                                         const half* __restrict__ vpool, const int32_t* table, const Paging& pg,
                                         int npos, int c, int c1, int np0, int np1, Loads& a0, Loads& b0, ColState& w) {
    Loads a1, b1;
    for (; c < c1; c += 4 * W) {
        step_one<W>(qb, kpool, vpool, table, pg, npos, c, c1, np0, np1, a0, b0, a1, b1, w);
        if (c + 2 * W >= c1) break;
        step_one<W>(qb, kpool, vpool, table, pg, npos, c + 2 * W, c1, np0, np1, a1, b1, a0, b0, w);
    }
}

// The decode tiles' kernel: block (group, kv head, split) with SPLITS (writes the split's partials to the workspace,
// which attention_merge_kernel merges), or (group, kv head) walking the splits in order and merging them itself (the
// same bits). run / per: the pass's runs and the tokens a group takes (groups_of); split: positions a split
// (split_positions). skip: the tokens left to other kernels
// (the prefill tiles' long runs, and contexts outside the tiles' range: skip_warp).
// W warps (warps_per_block): two blocks an SM of 4 (254 registers; a build of three, 168 registers with spills, was
// 10-60 % slower on the H100), one of 8. Dynamic shared memory: the warps' Scratch<W>.
template <bool SPLITS, bool ONE, int W>
__global__ void __launch_bounds__(threads_of<W>(), W == 4 ? 2 : 1) decode_tiles_kernel(
    const float* __restrict__ q, const half* __restrict__ kpool, const half* __restrict__ vpool,
    const int32_t* __restrict__ token_seq, const int32_t* __restrict__ token_pos,
    const int32_t* __restrict__ block_tables, int max_blocks, int block_size, int T, int heads, int kv_heads, int run,
    int per, int split, Skip skip, float* __restrict__ ws, half* __restrict__ out) {
    if (!SPLITS) allow_dependent_launch();  // a GEMM launched after this kernel may start fetching its weights
    extern __shared__ __align__(16) unsigned char dynamic_smem[];
    Scratch<W>& sh = *reinterpret_cast<Scratch<W>*>(dynamic_smem);
    __shared__ Rows rows;
    __shared__ Merge<W> mg;
    __shared__ int tseq[ROWS], tpos[ROWS];
    __shared__ bool ttaken[ROWS];
    const int G = heads / kv_heads, kvh = blockIdx.y;
    const Group grp = group_of(blockIdx.x, run, per);
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    // the epilogue's thread: dim d of rows r_first, r_first + RSTEP, ... (every row with 4 warps, every other with 8)
    constexpr int RSTEP = threads_of<W>() / HD;
    const int d = tid % HD, r_first = tid / HD;
    if (warp == 0) {
        for (int i = 0; i < grp.n; ++i) {
            const bool taken = skip_warp(skip, token_seq, token_pos, T, grp.t0 + i);
            if (lane == 0) {
                tseq[i] = token_seq[grp.t0 + i];
                tpos[i] = token_pos[grp.t0 + i];
                ttaken[i] = taken;
            }
        }
    }
    __syncthreads();
    bool same = true;  // one sequence: one walk for all rows (a wrong hint: one walk a token, the same bits)
    for (int i = 1; i < grp.n; ++i) same = same && tseq[i] == tseq[0];
    const int walks = same ? 1 : grp.n, S = SPLITS ? gridDim.z : 0;
    const float qscale = rsqrtf((float)HD);
    const Paging pg = Paging::of<true>(block_size, kv_heads, kvh, HD);
    for (int wk = 0; wk < walks; ++wk) {
        __syncthreads();  // the last walk's output loop has read rows and mg
        // the rows of this walk: row r = token i = r / G, head kvh G + r % G; npos 0 for a row outside it
        if (tid < ROWS) {
            const int r = tid, i = r / G;
            const int np = r < grp.n * G && !ttaken[i] && (same || i == wk) ? tpos[i] + 1 : 0;
            rows.npos[r] = np;
            rows.tok[r] = grp.t0 + i;
            rows.head[r] = kvh * G + r % G;
            rows.nsplits[r] = splits_of(np, split);
        }
        __syncthreads();
        int maxnpos = 0;
        for (int r = 0; r < ROWS; ++r) maxnpos = max(maxnpos, rows.npos[r]);
        if (maxnpos == 0) continue;  // block-uniform
        const int nsplits = splits_of(maxnpos, split), chunks = split / CHUNK;
        const int s_begin = SPLITS ? blockIdx.z : 0, s_end = SPLITS ? min((int)blockIdx.z + 1, nsplits) : nsplits;
        if (s_begin >= s_end) continue;
        const int32_t* table = block_tables + (long)tseq[same ? 0 : wk] * max_blocks;
        const int npos0 = rows.npos[g], npos1 = rows.npos[g + 8];
        uint32_t qa[HD / 16][4];  // the 16-row tile's A fragments (rows g, g + 8)
        uint32_t qb[HD / 16][2];  // ONE: Q^T's B fragments (head g)
        Loads first0, first1;     // the first step's K and V of the split being walked (start, start_one)
        const int cend = (maxnpos + CHUNK - 1) / CHUNK;  // the chunks of the longest context
        if constexpr (ONE) {
            start_one<W>(kpool, vpool, table, pg, maxnpos, s_begin * chunks + warp, min(s_begin * chunks + chunks, cend),
                         first0, first1);
            const float* q0 = q + ((long)rows.tok[g] * heads + rows.head[g]) * HD + 32 * t;
#pragma unroll
            for (int s = 0; s < HD / 16; ++s) {
                const float4 a = npos0 > 0 ? reinterpret_cast<const float4*>(q0)[s] : make_float4(0.f, 0.f, 0.f, 0.f);
                qb[s][0] = pack_half2(a.x * qscale, a.y * qscale);
                qb[s][1] = pack_half2(a.z * qscale, a.w * qscale);
            }
        } else {
            start(kpool, vpool, table, pg, maxnpos, s_begin * chunks + warp, min(s_begin * chunks + chunks, cend), first0);
            const float* q0 = q + ((long)rows.tok[g] * heads + rows.head[g]) * HD + 32 * t;
            const float* q1 = q + ((long)rows.tok[g + 8] * heads + rows.head[g + 8]) * HD + 32 * t;
#pragma unroll
            for (int s = 0; s < HD / 16; ++s) {
                const float4 a = npos0 > 0 ? reinterpret_cast<const float4*>(q0)[s] : make_float4(0.f, 0.f, 0.f, 0.f);
                const float4 b = npos1 > 0 ? reinterpret_cast<const float4*>(q1)[s] : make_float4(0.f, 0.f, 0.f, 0.f);
                qa[s][0] = pack_half2(a.x * qscale, a.y * qscale);
                qa[s][1] = pack_half2(b.x * qscale, b.y * qscale);
                qa[s][2] = pack_half2(a.z * qscale, a.w * qscale);
                qa[s][3] = pack_half2(b.z * qscale, b.w * qscale);
            }
        }
        float run_acc[ROWS];  // the sequential schedule's running merge of thread d's dim of each row (local memory)
        for (int s = s_begin; s < s_end; ++s) {
            if constexpr (ONE) {
                ColState w;
                w.m[0] = w.m[1] = -INFINITY;
                w.l[0] = w.l[1] = 0.f;
#pragma unroll
                for (int u = 0; u < HD / 16; ++u) w.o[u][0] = w.o[u][1] = w.o[u][2] = w.o[u][3] = 0.f;
                const int c0 = s * chunks, c1 = min(c0 + chunks, cend);
                if (s > s_begin) start_one<W>(kpool, vpool, table, pg, maxnpos, c0 + warp, c1, first0, first1);
                walk_one<W>(qb, kpool, vpool, table, pg, maxnpos, c0 + warp, c1, rows.npos[2 * t], rows.npos[2 * t + 1],
                            first0, first1, w);
                // the 16-row tile's sum of its lanes' shares (xor 1, then 2 over t): here the shares of lanes g = 2j
#pragma unroll
                for (int x = 8; x <= 16; x <<= 1) {
                    w.l[0] += __shfl_xor_sync(0xffffffffu, w.l[0], x);
                    w.l[1] += __shfl_xor_sync(0xffffffffu, w.l[1], x);
                }
                if (g == 0) {
                    sh.wm[warp][2 * t] = w.m[0];
                    sh.wm[warp][2 * t + 1] = w.m[1];
                    sh.wl[warp][2 * t] = w.l[0];
                    sh.wl[warp][2 * t + 1] = w.l[1];
                }
#pragma unroll
                for (int u = 0; u < HD / 16; ++u) {
                    const int d0 = 16 * g + 2 * u, d1 = d0 + 1, r0 = 2 * t, r1 = r0 + 1;
                    sh.wacc[warp][r0][phys(r0, d0)] = w.o[u][0];
                    sh.wacc[warp][r1][phys(r1, d0)] = w.o[u][1];
                    sh.wacc[warp][r0][phys(r0, d1)] = w.o[u][2];
                    sh.wacc[warp][r1][phys(r1, d1)] = w.o[u][3];
                }
            } else {
                WarpState w;
                w.m0 = w.m1 = -INFINITY;
                w.l0 = w.l1 = 0.f;
#pragma unroll
                for (int u = 0; u < HD / 8; ++u) w.o[u][0] = w.o[u][1] = w.o[u][2] = w.o[u][3] = 0.f;
                const int c0 = s * chunks, c1 = min(c0 + chunks, cend);
                if (s > s_begin) start(kpool, vpool, table, pg, maxnpos, c0 + warp, c1, first0);
                walk<W>(qa, kpool, vpool, table, pg, maxnpos, c0 + warp, c1, npos0, npos1, first0, w);
#pragma unroll
                for (int x = 1; x <= 2; x <<= 1) {
                    w.l0 += __shfl_xor_sync(0xffffffffu, w.l0, x);
                    w.l1 += __shfl_xor_sync(0xffffffffu, w.l1, x);
                }
                if (t == 0) {
                    sh.wm[warp][g] = w.m0;
                    sh.wm[warp][g + 8] = w.m1;
                    sh.wl[warp][g] = w.l0;
                    sh.wl[warp][g + 8] = w.l1;
                }
#pragma unroll
                for (int u = 0; u < HD / 8; ++u) {
                    const int d0 = 32 * t + u, d1 = d0 + 16;
                    sh.wacc[warp][g][phys(g, d0)] = w.o[u][0];
                    sh.wacc[warp][g][phys(g, d1)] = w.o[u][1];
                    sh.wacc[warp][g + 8][phys(g + 8, d0)] = w.o[u][2];
                    sh.wacc[warp][g + 8][phys(g + 8, d1)] = w.o[u][3];
                }
            }
            __syncthreads();
            // thread r: row r's merge factors in this split, in warp order (as merge_warps), and the split merge's
            if (tid < ROWS && s < rows.nsplits[tid]) {
                const int r = tid;
                float gm = -INFINITY;
                for (int x = 0; x < W; ++x) gm = fmaxf(gm, sh.wm[x][r]);
                float l = 0.f;
                for (int x = 0; x < W; ++x) {
                    const float e = sh.wm[x][r] == -INFINITY ? 0.f : __expf(sh.wm[x][r] - gm);
                    mg.e[r][x] = e;
                    l = fmaf(sh.wl[x][r], e, l);
                }
                if constexpr (SPLITS) {
                    float* dst = ws + (((long)rows.tok[r] * heads + rows.head[r]) * S + s) * (HD + 2);
                    dst[HD] = gm;
                    dst[HD + 1] = l;
                } else if (s == 0) {
                    mg.run_m[r] = gm;
                    mg.run_l[r] = l;
                } else {  // merge_split's (m, l), its factors kept for the dims
                    const float mnew = fmaxf(mg.run_m[r], gm);
                    const float a = __expf(mg.run_m[r] - mnew), b = __expf(gm - mnew);
                    mg.run_l[r] = fmaf(mg.run_l[r], a, l * b);
                    mg.run_m[r] = mnew;
                    mg.a[r] = a;
                    mg.b[r] = b;
                }
            }
            __syncthreads();
            // thread d merges its dim of every row in this split (8 warps: of every other row) with those factors
            // (rolled: an epilogue run once a split is not worth the instruction cache it would take unrolled; Nsight
            // Compute found the warps of short contexts waiting on instruction fetch half of the time)
#pragma unroll 1
            for (int r = r_first; r < ROWS; r += RSTEP) {
                if (s >= rows.nsplits[r]) continue;  // (a row outside the walk: no split) block-uniform
                float acc = 0.f;
#pragma unroll
                for (int x = 0; x < W; ++x) acc = fmaf(sh.wacc[x][r][phys(r, d)], mg.e[r][x], acc);
                if constexpr (SPLITS) {
                    ws[(((long)rows.tok[r] * heads + rows.head[r]) * S + s) * (HD + 2) + d] = acc;
                } else if (s == 0) {
                    run_acc[r] = acc;
                } else {
                    run_acc[r] = fmaf(run_acc[r], mg.a[r], acc * mg.b[r]);  // merge_split's
                }
            }
            __syncthreads();  // the scratch and the factors are read before the next split's stores
        }
        if constexpr (!SPLITS) {
#pragma unroll 1
            for (int r = r_first; r < ROWS; r += RSTEP) {
                if (rows.npos[r] == 0) continue;
                out[((long)rows.tok[r] * heads + rows.head[r]) * HD + d] = __float2half(run_acc[r] / mg.run_l[r]);
            }
        }
    }
}

// Whether the decode tiles serve a pass (QSPEC_ATTENTION_DECODE_TILES, read at every call): 0 (never), 1 or unset (the
// tokens whose context holds at least from_positions() positions; the others take the row kernels), all (every
// token), seq (every token, each block walking its splits). Only head size 128 with at most 16 heads a kv head.
enum class Mode { Off, From, All, Sequential };
inline Mode mode(int heads, int kv_heads, int hd) {
    const char* v = getenv("QSPEC_ATTENTION_DECODE_TILES");
    if ((v != nullptr && strcmp(v, "0") == 0) || hd != HD || heads / kv_heads > ROWS) return Mode::Off;
    if (v == nullptr) return Mode::From;
    if (strcmp(v, "all") == 0) return Mode::All;
    if (strcmp(v, "seq") == 0) return Mode::Sequential;
    return Mode::From;
}

// Whether groups of one token (decode passes) take the one-token tile (QSPEC_ATTENTION_DECODE_TILES_ONE, read at every
// call: on unless "0"). Either tile gives the same bits (the H100, session 41: mma_operands.cu and qspec_test); the
// one-token tile is 2-11 % faster for decode passes (KERNELS.md, "Decode tiles").
inline bool one_token_tiles() {
    const char* v = getenv("QSPEC_ATTENTION_DECODE_TILES_ONE");
    return v == nullptr || strcmp(v, "0") != 0;
}

// The fewest positions (the token's own included) from which a token takes the tiles in Mode::From:
// QSPEC_ATTENTION_DECODE_TILES_FROM, default 512. The choice follows the token's position alone, so a verify token
// takes its decode's kernel and keeps its bits (never the pass's size: a token's bits may not depend on its batch).
// A compromise: from 512 to about 1700 positions one sequence's decode is 1.5 us a layer slower on the tiles, while
// every batch of 8 or more and every verify run of one sequence from about 800 is faster, batches of verify runs by
// 4-5x (docs/KERNELS.md, "Decode tiles", session 41's table).
inline int from_positions(Mode m) {
    if (m != Mode::From) return 0;
    const char* v = getenv("QSPEC_ATTENTION_DECODE_TILES_FROM");
    return v != nullptr ? atoi(v) : 512;
}

// Positions a split of the tiles (QSPEC_ATTENTION_DECODE_TILES_SPLIT, read at every call: 64, 128 or 256, the
// default). A token's bits follow its split's length (each split's warps merge, then the splits in order), so the
// setting must hold for a whole generation, as the tiles' switch must; both schedules and every pass keep it. Shorter
// splits give a short context more blocks (one sequence's decode at 512 positions: 16 blocks of 256 positions on 132
// SMs, each walking four steps of its chunks one after another) at the cost of a merge each: on the H100 they win one
// sequence's passes up to about 2048 positions and lose batches of 8 and more, so they are opt-in (KERNELS.md,
// "Decode tiles", session 43).
inline int split_positions() {
    const char* v = getenv("QSPEC_ATTENTION_DECODE_TILES_SPLIT");
    const int n = v != nullptr ? atoi(v) : SPLIT;
    return n == 64 || n == 128 ? n : SPLIT;
}

// Warps a block of the tiles (QSPEC_ATTENTION_DECODE_TILES_WARPS, read at every call: 8, or 4, the default). A token's
// bits follow the count (chunk c goes to warp c mod W; the warps merge in order), so the setting must hold for a whole
// generation, as the split's must. Eight warps walk a split's chunks in half the steps, for one sequence's short
// contexts where a block's time is its warps' chained steps, at one block an SM instead of two: on the H100 one
// sequence's decode at 512-2048 positions 12-14 % faster, batches of 8 and more from 1024 positions 14-40 % slower, so
// opt-in (KERNELS.md, "Decode tiles", session 43).
inline int warps_per_block() {
    const char* v = getenv("QSPEC_ATTENTION_DECODE_TILES_WARPS");
    return v != nullptr && atoi(v) == 8 ? 8 : 4;
}

}  // namespace dtiles
