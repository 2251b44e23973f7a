// The ring both bulk-copy decode GEMVs share (sm_90: W4A16's w4a16_bulk_kernel, the draft's
// w4ax_bulk_kernel): one CTA computes 16 NT weight rows (NT row tiles) for 8 MT tokens (MT token tiles)
// over the whole K, its K split across WK consumer warps as in the warp-split kernels (warp w takes
// steps w, w + WK, ...), and one lane of a ninth warp feeds them through the tensor memory accelerator
// (TMA).
//
// Chunks of WK steps (1024 inputs) go into a ring of R entries (RING = 4 unless the activations of M
// tokens would leave room for only one CTA per SM; ring_depth), each completed on an mbarrier
// (`full`) and released by the consumers (`empty`, one arrival per warp once its step has used the
// registers the chunk was read into): the weights as one 3-D tensor-map box of WK warp steps (weight_chunk_map: stored
// [step][16 NT rows][64 bytes], so a warp's step lies in 1 KB of shared memory and its 16-byte reads hit
// distinct banks; one copy instead of WK 2-D boxes streams ~10 % faster, docs/KERNELS.md), the
// activations as M bulk copies of one chunk of one token. The ring is walked R chunks at a time with
// compile-time ring indices (ring_round), so no step computes a ring slot, a parity or an address.
//
// A CTA computes one row tile, or (two row tiles per CTA and one token tile, where one CTA per tile would
// take more than a wave: tiles_per_cta) walks several, tiles t, t + G, t + 2G, ... of a grid of G CTAs,
// streaming them through the one ring without draining it between tiles, so that the next tile's bytes
// are in flight while this one's chunks are multiplied and its sums reduced. The sums are the same
// either way.
//
// KEEP (a walk on four row tiles, QSPEC_BULK_KEEP; keeps_tokens): the activations are copied once, with the
// walk's first tile, into a buffer of the whole K that stays in shared memory, and later tiles copy only their
// weights. A walk that re-streams M tokens per 64 rows brings an SM as many activation bytes as weight bytes at
// M = 16 (half as many at M = 8), and the bulk kernels stream about 31 GB/s into an SM whatever the mix
// (docs/KERNELS.md, session 23); kept, the activations are a fraction of a walk's bytes. Two token tiles can
// then walk too (their reduction gets its own buffer after the activations).
#pragma once
#include <algorithm>
#include <cooperative_groups.h>
#include <string.h>
#include <type_traits>
#include "norm_rows.cuh"
#include "tensor_map.cuh"
#include "w4_tiles.cuh"

namespace w4::bulk {

constexpr int RING = 4;                  // chunks in flight (the deepest ring)
constexpr int CHUNK = WK * KSTEP;        // inputs per chunk
constexpr int THREADS = (WK + 1) * 32;  // WK consumer warps and the copying warp
constexpr int BARRIERS = 128;           // bytes before the ring: full[R], empty[R]

// Shared memory of a CTA of NT row tiles (16 NT rows) and a ring of R chunks: [BARRIERS][R][WK][16 NT
// rows][64 bytes] weights, then [M][R][XPITCH] activations of XB bytes per input (a token's ring entries
// together, so a warp's address is fixed and the ring index adds a constant).
// KZ: CTAs along K (a cluster; K_SPLIT below): each copies WK / KZ steps of each chunk.
template <int XB, int NT = 1, int R = RING, int KZ = 1>
struct Layout {
    static constexpr int WSTEP = NT * 16 * KSTEP / 2;  // weight bytes of one warp step (one step of the box)
    static constexpr int WSTAGE = WK / KZ * WSTEP;     // weight bytes of a chunk
    static constexpr int XROW = CHUNK / KZ * XB;       // activation bytes of a token per chunk
    static constexpr int XPITCH = XROW + 32;           // tokens on different banks
    static size_t smem_bytes(int M) { return BARRIERS + (size_t)R * (WSTAGE + M * XPITCH); }
    // KEEP: the ring's weights, then [M][kept_pitch(K)] activations, then `red` bytes (two token tiles' reduction)
    // (the 32: tokens on different banks, as XPITCH)
    __host__ __device__ static size_t kept_pitch(int K) { return (size_t)K * XB + 32; }
    static size_t kept_bytes(int M, int K, size_t red) {
        return BARRIERS + (size_t)R * WSTAGE + M * kept_pitch(K) + red;
    }
};

// Launch bounds of a bulk-copy kernel of NT row tiles and MT token tiles: the CTAs per SM its shared memory
// allows (four at one row tile, two at two row tiles and one token tile, one otherwise: four row tiles, and four
// token tiles, run one CTA per SM), and for two row tiles and two token tiles at most 112 registers, so that two
// CTAs of 288 threads still fit per SM where their shared memory does (the bounds alone would give 96 or spill).
template <int NT, int MT>
constexpr int min_ctas() { return NT == 1 ? 4 : NT == 2 && MT == 1 ? 2 : 1; }
template <int NT, int MT>
constexpr int max_regs() { return NT == 2 && MT == 2 ? 112 : 255; }

// Row tiles per CTA of a bulk-copy kernel on a matrix wider than 8192 rows, one token tile from M = wide_from
// (W4A16: 2, the draft: 1) and two token tiles (M = 9-16): four (64 rows, one CTA per SM; at M = 16 as many
// weight bytes per chunk as activation bytes of fp16 tokens). Measured on the H200 (docs/KERNELS.md, session
// 14): at M = 9-16 W4A16 lm_head 148-169 -> 116-137 us, gate+up 35.5-40.6 -> 31.0-33.4, the draft's lm_head
// 139-167 -> 99-116; at M = 5-8 W4A16 lm_head 91.6-100.5 -> 80-89.5, gate+up 24.4-26.7 -> 21.7-23.1; at M = 2-4
// W4A16 gate+up 21.8-23.4 -> 21.4-22.3, the draft's at one token 20.0-20.3 -> 19.1 and gate/up 12.3 -> 10.7; W4A16
// lm_head at one token 71.7-72.7 -> 74.3-74.8, hence two row tiles there. QSPEC_BULK_WIDE_ROWS=32 keeps two row
// tiles (for W4A16 at M = 13-16 the cluster kernel, as before); QSPEC_BULK_WIDE_M=m sets the first M of one token
// tile for both GEMMs (9: none). Every choice gives the same bits.
inline bool wide_row_tiles(int N) {
    static const int rows = env_int("QSPEC_BULK_WIDE_ROWS", 64);
    return rows == 64 && N > 8192;
}
// Four row tiles for two token tiles (M = 9-16) also on matrices of at most 8192 rows where two row tiles a CTA make
// more CTAs than SMs: the stacked q|k|v's 6144 rows take 192 CTAs on 132 SMs, two on 60 of them, each bringing in its
// own copy of the 16 tokens (twice its weight bytes). With four, 96 CTAs at one per SM. On the H100 (docs/KERNELS.md,
// session 26) q+k+v at M = 9 / 12 / 16 runs 11.1 / 11.8 / 12.7 -> 9.5 / 9.4 / 9.6 us in W4A16 and 9.5 / 9.9 / 10.5 ->
// 9.1 / 9.1 / 8.6 in the draft (which takes the warp-split kernel there otherwise); the kernel is the wide matrices'
// (the same bits). On by default; QSPEC_BULK_M16_ROWS64=0 turns it off.
inline bool four_row_tiles_m16(int N) {
    static const int on = env_int("QSPEC_BULK_M16_ROWS64", 1);
    return wide_row_tiles(N) || (on != 0 && ceil_div(N, 32) > sm_count());
}
inline int wide_rows_from(int wide_from) {
    static const int m = env_int("QSPEC_BULK_WIDE_M", 0);
    return m > 0 ? m : wide_from;
}

// Row tiles per CTA of a bulk-copy kernel at M tokens on N rows: four on wide matrices from wide_rows_from(),
// else two (half the activation bytes per weight byte, and from one token on, CTAs that walk row tiles where
// one per tile takes more than a wave: tiles_per_cta).
// Measured on the H200 (docs/KERNELS.md): faster than one tile on every N >= 4096 at M = 2-8 for W4A16, and
// at one token for both GEMMs (W4A16 lm_head 79-82 -> 72-75 us, gate/up 14.0 -> 12.5). QSPEC_BULK_ROWS=16
// keeps one tile at every M (tests); QSPEC_BULK_ROWS1=16 at one token only (measurements). Every choice
// gives the same bits.
inline int row_tiles(int M, int N, int wide_from) {
    static const int rows = env_int("QSPEC_BULK_ROWS", 32), rows1 = env_int("QSPEC_BULK_ROWS1", 32);
    if (rows != 32) return 1;
    if (M >= wide_rows_from(wide_from) && wide_row_tiles(N)) return 4;
    return M >= 2 || rows1 == 32 ? 2 : 1;
}

// The ring depth for M tokens: 2 up to SHALLOW_M (below), else the deepest of RING, 3 and 2 chunks that leaves
// shared memory for two CTAs per SM (W4A16's two row tiles: 4 at M = 5, 3 up to 8, 2 beyond; one CTA per SM is 8
// consumer warps, too few to hide a step's latency). Four row tiles (64 rows: 32 KB of weights a chunk) run one CTA per SM:
// with one token tile on a ring of 2 (so that their CTAs walk row tiles: 5-13 % faster than a ring of 3 that
// cannot, measured on the H200, docs/KERNELS.md), with two on a ring of 3 (their 4-deep builds spill; a ring
// of 2 measured the same). smem_static: the kernel's static shared memory. QSPEC_BULK_RING=2|3|4 forces a depth
// (measurements, tests; four row tiles: at most 3); every depth gives the same bits.
// Four token tiles (M = 17-32) run one CTA per SM at either row-tile count: the deepest ring that fits one CTA (four
// row tiles: at most 3), e.g. W4A16 at M = 32 a ring of 2 (99 KB an entry with four row tiles), the draft 3 or 4.
// Up to SHALLOW_M tokens one and two row tiles take a ring of 2 (half the shared memory, so more CTAs per SM, and
// walks on K = 14336, whose 14 chunks a ring of 4 does not divide). Measured on the H100 (docs/KERNELS.md, session
// 31): at M = 1 W4A16 q+k+v 7.71 -> 7.27 us, down 14.49 -> 14.11, gate/up 14.04 -> 13.35, the draft's q+k+v 7.47 ->
// 6.90, q/o 1 % slower, the rest equal; at M = 2-4 q+k+v and down 3-8 % faster, the rest within 1 %; at M = 8 mixed
// (down 3 % slower), hence 4. End to end at batch 1 the gain is within the runs' spread. (The H200 had shown a ring of
// 2 2-3 % faster on lm_head and gate/up at M = 5.)
constexpr int DEEPEST_WIDE = 3;
constexpr int SHALLOW_M = 4;
template <int XB, int NT>
inline int ring_depth(int M, size_t smem_static) {
    static const int forced = env_int("QSPEC_BULK_RING", 0);
    constexpr int deepest = NT == 4 ? DEEPEST_WIDE : RING;
    if (forced >= 2 && forced <= RING) return forced < deepest ? forced : deepest;
    constexpr size_t per_sm = 228 * 1024, reserved = 1024;  // sm_90: shared memory per SM, per CTA
    if (M > 16) {
        auto fits_one = [&](size_t ring) { return ring + smem_static + reserved <= per_sm; };
        if (deepest == 4 && fits_one(Layout<XB, NT, 4>::smem_bytes(M))) return 4;
        return fits_one(Layout<XB, NT, 3>::smem_bytes(M)) ? 3 : 2;
    }
    if constexpr (NT == 4) return M <= 8 ? 2 : DEEPEST_WIDE;
    if (M <= SHALLOW_M) return 2;
    auto fits = [&](size_t ring) { return 2 * (ring + smem_static + reserved) <= per_sm; };
    return fits(Layout<XB, NT, RING>::smem_bytes(M)) ? RING : fits(Layout<XB, NT, 3>::smem_bytes(M)) ? 3 : 2;
}

// Calls f(std::integral_constant<int, r>{}, c + r) for r = 0 .. R - 1 while c + r < n.
template <int R, int I = 0, class F>
__device__ __forceinline__ void ring_round(int c, int n, F&& f) {
    if constexpr (I < R) {
        if (c + I < n) {
            f(std::integral_constant<int, I>{}, c + I);
            ring_round<R, I + 1>(c, n, f);
        }
    }
}

// A switch of the bulk-copy kernels read from the environment: 0 (off), 1 (the rule: unset or any other
// number) or 2 ("all": wherever the kernel can run).
inline int env_switch(const char* name) {
    const char* v = getenv(name);
    if (v == nullptr) return 1;
    return strcmp(v, "all") == 0 ? 2 : atoi(v) != 0 ? 1 : 0;
}

// Whether a decode GEMV takes a bulk-copy kernel: on sm_90, group 128, K % 1024 == 0, M <= max_m (8, or
// 16 for W4A16's two token tiles), N >= 4096, and one token unless the kernel takes two row tiles per CTA
// for M >= 2 (two_tiles).
// Measured on the H200 (docs/KERNELS.md): at one token the bulk kernels beat the warp-split ones on
// every N >= 4096; from M = 2 one row tile per CTA re-reads the M tokens for only 16 rows and loses on
// most shapes, two tiles win; N = 1024 is too few CTAs to cover the first chunk's latency.
// QSPEC_BULK_GEMV=0: never; QSPEC_BULK_GEMV=all: for every M <= max_m and N (tests). The caller adds its
// own conditions (aligned activation rows, the s8 path).
inline bool use_bulk_gemv(int M, int N, int K, int group, bool two_tiles, int max_m = 8) {
    static const int mode = env_switch("QSPEC_BULK_GEMV");
    if (mode == 0 || group != KSTEP || K % CHUNK != 0 || M > max_m || device_major() < 9) return false;
    return mode == 2 || (N >= 4096 && (M == 1 || two_tiles));
}

// Four token tiles (MT = 4) at M = 17-32 in both GEMMs' bulk-copy kernels, instead of the warpgroup kernels (W4A16's
// 32-token tiles, the draft's): the weights are read once per 32 tokens either way, and the bulk kernels stream them
// with more bytes in flight per SM. The rule, from session 29's H100 measurement (docs/KERNELS.md, "Four token tiles
// at M = 17-32"): on N <= 4096 (q/o, down: 1.4-1.9x at M = 17, 1.2-1.5x at 32), and on N <= 8192 up to M = 24
// (q+k+v: 1.04-1.15x; at 32 W4A16 loses 12 %); the wide matrices (gate/up, gate+up, lm_head) keep the warpgroup
// kernels, which run them 1.1-1.8x faster. QSPEC_BULK_M32=0: never; =all: every N the kernels take (use_bulk_gemv).
// Every choice gives the same bits (the same step_mma in the same order for every output).
inline bool four_token_tiles(int M, int N) {
    static const int mode = env_switch("QSPEC_BULK_M32");
    if (M <= 16 || M > 32 || mode == 0) return false;
    if (mode == 2) return N >= 4096;
    return N >= 4096 && (N <= 4096 || (N <= 8192 && M <= 24));
}
// Row tiles per CTA with four token tiles: two (one CTA per SM, 152-164 registers, no spills), or with
// QSPEC_BULK_M32_ROWS=64 four where two token tiles take four (four_row_tiles_m16), whose builds spill 0.1-1.2 KB a
// thread at the 168 registers that nine warps allow (measurements). W4A16's K split (splits_k) takes four row tiles
// over its cluster of two, two a CTA.
inline int four_token_tiles_rows(int N) {
    static const int rows = env_int("QSPEC_BULK_M32_ROWS", 32);
    return rows == 64 && four_row_tiles_m16(N) ? 4 : 2;
}

// The row tiles a CTA walks: tile0, tile0 + tstep, ... below ntiles, each of nchunks chunks. Chunk c of
// the CTA's k-th tile is chunk k nchunks + c of its ring, so a walk of several tiles needs
// nchunks % R == 0 (every tile then starts at ring entry 0, which keeps the entries compile-time).
struct Walk {
    int tile0, tstep, ntiles, nchunks;
};

// Tiles per CTA of a bulk kernel over `tiles` row tiles of `nchunks` chunks each, with ring depth R and
// `per_sm` CTAs per SM: 1 (a CTA per tile) while the grid fits on the GPU at once; otherwise
// ceil(tiles / resident CTAs), so that every CTA is resident from the start and none starts late for a
// short tail. A walk needs nchunks % R == 0. Measured on the H200 (docs/KERNELS.md): 5-10 % faster for the
// two-row-tile kernels on gate/up and lm_head; the one-row-tile kernels (QSPEC_BULK_ROWS=16; 56 registers)
// do not walk: the walk spills there, and at 3 CTAs per SM was no faster than one CTA per tile.
// QSPEC_BULK_WALK=0: one tile per CTA always; QSPEC_BULK_WALK=n >= 2: n tiles per CTA wherever a
// walk can run (tests). Every choice gives the same bits.
inline int tiles_per_cta(int tiles, int nchunks, int R, int per_sm) {
    static const int forced = env_int("QSPEC_BULK_WALK", 1);
    if (forced == 0 || nchunks % R != 0) return 1;
    if (forced >= 2) return forced;
    const long resident = (long)sm_count() * per_sm;
    return tiles > resident ? (int)ceil_div(tiles, resident) : 1;
}

// The grid (CTAs along y) of a bulk kernel with one token tile over `tiles` row tiles: one CTA per tile, or
// fewer CTAs that walk tiles_per_cta each (the walking build's CTAs per SM at its shared memory, smem).
template <class... Params>
inline int walk_grid(void (*kernel)(Params...), size_t smem, int tiles, int nchunks, int R) {
    static const bool forced = env_int("QSPEC_BULK_WALK", 1) >= 2;
    if (tiles <= sm_count() && !forced) return tiles;  // one wave at any residency
    int per_sm = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, THREADS, smem) != cudaSuccess || per_sm < 1) {
        (void)cudaGetLastError();
        per_sm = 1;
    }
    return ceil_div(tiles, tiles_per_cta(tiles, nchunks, R, per_sm));
}

// What a bulk-copy GEMV does with its sums (the kernels' EPI argument): STORE them in y; NORM_TAIL: store them, then
// the CTA that finishes last normalises the rows of y (norm_rows.cuh); SWIGLU (W4A16, the stacked gate|up matrix of
// N = 2H rows): store the gate half in y, and for the up half silu(gate) * up as fp16 in Epilogue::swiglu [M, H],
// as qspec_swiglu_f16 computes it; ROPE_KV (the stacked q|k|v matrix, interleaved RoPE pairs): store them in y, and
// RoPE(q) in Epilogue::rope's q_out, RoPE(k) and v in its paged cache, as qspec_rope_write_kv does. The builds of each
// kind are separate kernels, so that the GEMVs without an epilogue are the code they were before epilogues existed.
// `head` is the one fusion before the sums (HEAD builds of both GEMMs): the activations are not copied from x but
// normalised (for the draft, and quantized) from fp32 rows by every CTA into the kept buffer (norm_rows.cuh,
// run_head).
enum EpilogueKind : int { STORE, NORM_TAIL, SWIGLU, ROPE_KV };
struct Epilogue {
    rms::NormTail norm;  // NORM_TAIL: norm.ticket set
    half* swiglu;        // SWIGLU: set
    rms::NormHead head;  // HEAD builds: head.rows set
    RopeKv rope;         // ROPE_KV: rope.q_out set
};
inline constexpr Epilogue PLAIN{};
// Returned where a bulk kernel does not serve a call: no tensor map for its weights, or an epilogue its grid cannot
// take (the caller then runs another kernel, or the GEMV and the epilogue's own kernel: the same bits).
constexpr int NOT_TAKEN = NO_TENSOR_MAP;

// SWIGLU's grid: CTA c walks row tiles c, c + G, ... of `tiles`, the first half of them gate tiles and the second
// half the up tiles of the same hidden units (gate tile t + tiles / 2 is up tile t), so every CTA holds both sums of
// its units: G = tiles / (2 j) for the smallest j at which all G CTAs are resident at once (a walk that starts every
// CTA at once, as tiles_per_cta); 0 where the tiles cannot pair (an odd count, a gate half that ends inside a tile).
template <class... Params>
inline int swiglu_grid(void (*kernel)(Params...), size_t smem, int tiles, int rows_per_tile, int N) {
    if (N % (2 * rows_per_tile) != 0) return 0;
    int per_sm = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, THREADS, smem) != cudaSuccess || per_sm < 1) {
        (void)cudaGetLastError();
        per_sm = 1;
    }
    const int half = tiles / 2;
    for (int j = 1; j <= half; ++j)
        if (half % j == 0 && half / j <= sm_count() * per_sm) return half / j;
    return 0;
}

// The host side of both GEMMs' bulk-copy kernels. `Kernels` names a GEMM's kernel template and the bytes of
// one activation input: `static constexpr int XB` and `template <int NT, int R, int MT, bool WALK, int EPI> static
// constexpr auto kernel`; with `NORM_HEAD` true, also `template <int NT, int EPI> head_kernel` (the walking KEEP build
// on a ring of 2 whose CTAs normalise their own activations). The kernels take (tensor map, activation arguments...,
// ws, y, ldy, M, N, K, accumulate, epilogue); `act` are those activation arguments (W4A16: x, ldx; the draft: xq, xs).

// The static shared memory of a bulk kernel of NT row tiles and MT token tiles: one token tile's reduction.
template <int NT, int MT>
constexpr size_t static_smem() { return MT == 1 ? sizeof(float) * WK * NT * 4 * 32 : sizeof(float); }
// KEEP: the dynamic shared memory of two token tiles' reduction (one token tile's is static)
template <int NT, int MT>
constexpr size_t kept_red_bytes() { return MT == 1 ? 0 : sizeof(float) * WK * MT * NT * 128; }
constexpr size_t SMEM_PER_CTA = 227 * 1024;  // sm_90: static + dynamic shared memory of one CTA
constexpr size_t HEAD_STATIC_SMEM = sizeof(float) * rms::HEAD_SCALES;  // the draft head's static scales

// Whether a bulk GEMV of four row tiles keeps its tokens (KEEP, on a ring of 2): a walk of several tiles per CTA
// (SWIGLU's pairs, or more tiles than SMs at one CTA per SM, or QSPEC_BULK_WALK=n), K in an even number of chunks
// (the walk's ring) and the M tokens' whole K in shared memory beside the ring. Measured on the H200 (session 23,
// docs/KERNELS.md): at M = 9-16 gate/up 11-12 %, gate|up 13-16 %, lm_head 12-21 % faster, the draft's alike; at
// M = 8 2-5 %; W4A16 and W4A8 decode at batch 16 +5 / +7 % end to end. QSPEC_BULK_KEEP=0 turns it off; every
// choice gives the same bits.
template <int XB, int MT>
inline bool keeps_tokens(int M, int N, int K, bool swiglu) {
    static const int mode = env_int("QSPEC_BULK_KEEP", 1), forced_walk = env_int("QSPEC_BULK_WALK", 1);
    if (mode == 0 || forced_walk == 0 || (K / CHUNK) % 2 != 0) return false;
    using L = Layout<XB, 4, 2>;
    if (static_smem<4, MT>() + L::kept_bytes(M, K, kept_red_bytes<4, MT>()) > SMEM_PER_CTA) return false;
    return swiglu || forced_walk >= 2 || ceil_div(N, 64) > sm_count();
}

// The head's build (Kernels::head_kernel) where HEAD, else the GEMM's kernel of these parameters.
template <class Kernels, int NT, int R, int MT, bool WALK, int EPI, bool KEEP, bool HEAD>
constexpr auto bulk_build() {
    if constexpr (HEAD) {
        static_assert(R == 2 && MT == 1 && WALK && KEEP, "the head takes the walking KEEP build on a ring of 2");
        return Kernels::template head_kernel<NT, EPI>;
    } else {
        return Kernels::template kernel<NT, R, MT, WALK, EPI, KEEP>;
    }
}

// Launches the kernel with a ring of R chunks. One token tile, or KEEP: each CTA walks tiles_per_cta row tiles
// (SWIGLU: the pairs of swiglu_grid); KEEP always takes the walking build. HEAD: the head's build (KEEP).
template <class Kernels, int NT, int R, int MT, int EPI, bool KEEP, bool HEAD = false, class... Act>
int launch_ring(const CUtensorMap& wmap, const half* ws, float* y, int ldy, int M, int N, int K, bool accumulate,
                const Epilogue& epi, cudaStream_t st, Act... act) {
    using L = Layout<Kernels::XB, NT, R>;
    constexpr bool WALKS = NT >= 2 && (MT == 1 || KEEP);  // tiles_per_cta
    // SWIGLU and KEEP: always the walking build
    constexpr auto kernel = bulk_build<Kernels, NT, R, MT, (EPI == SWIGLU || KEEP) && WALKS, EPI, KEEP, HEAD>();
    constexpr auto walking = bulk_build<Kernels, NT, R, MT, WALKS, EPI, KEEP, HEAD>();
    // the largest dynamic shared memory of the build: KEEP's depends on K (HEAD: beside the draft's static scales), and
    // four token tiles' ring may be deeper at M = 17 than at 32 tokens fit
    const size_t most = KEEP ? SMEM_PER_CTA - static_smem<NT, MT>() - (HEAD ? HEAD_STATIC_SMEM : 0)
                             : std::min(L::smem_bytes(8 * MT), SMEM_PER_CTA - static_smem<NT, MT>());
    static unsigned long long smem_allowed, smem_allowed_walking;
    if (const int e = allow_dynamic_smem(kernel, most, smem_allowed)) return e;
    if (const int e = allow_dynamic_smem(walking, most, smem_allowed_walking)) return e;
    const size_t smem = KEEP ? L::kept_bytes(M, K, kept_red_bytes<NT, MT>()) : L::smem_bytes(M);
    const int tiles = ceil_div(N, 16 * NT);
    if constexpr (EPI == SWIGLU) {
        static_assert(WALKS, "SWIGLU pairs row tiles in a walk");
        const int ctas = (K / CHUNK) % R == 0 ? swiglu_grid(walking, smem, tiles, 16 * NT, N) : 0;
        if (ctas == 0) return NOT_TAKEN;
        return launch_dependent(walking, dim3(1, ctas), THREADS, smem, st, true, wmap, act..., ws, y, ldy, M, N, K,
                                accumulate, epi);
    }
    const int ctas = WALKS ? walk_grid(walking, smem, tiles, K / CHUNK, R) : tiles;
    return launch_dependent(ctas < tiles ? walking : kernel, dim3(1, ctas), THREADS, smem, st, true, wmap, act..., ws,
                            y, ldy, M, N, K, accumulate, epi);
}

// qspec_w4a16_gemm_rope_kv and qspec_w4ax_gemm_rope_kv after their own checks: `fused(epi)` (the GEMM's bulk GEMV with
// the ROPE_KV epilogue `epi`) where rope_epilogue_applies and it takes the call, else `gemm()` into qkv (rows N apart)
// and qspec_rope_write_kv on its rows: the same bits. 0 where the RoPE arguments are not the kernel's.
bool rope_epilogue_applies(int M, int rope_style);  // (w4a16_gemm.cu)
inline bool rope_arguments_valid(int heads, int kv_heads, int head_dim, int rope_style) {
    return head_dim > 0 && head_dim % 2 == 0 && heads > 0 && kv_heads > 0 && (rope_style == 0 || rope_style == 1);
}
template <class Fused, class Gemm>
int gemm_rope_kv(const RopeKv& rope, int rope_style, float* qkv, int M, cudaStream_t st, Fused&& fused, Gemm&& gemm) {
    const int qd = rope.heads * rope.head_dim, kd = rope.kv_heads * rope.head_dim;
    if (rope_epilogue_applies(M, rope_style)) {
        Epilogue epi{};
        epi.rope = rope;
        if (const int e = fused(epi); e != NOT_TAKEN) return e;  // else: the two launches below, the same bits
    }
    if (const int e = gemm()) return e;
    return qspec_rope_write_kv(qkv, qkv + qd, qkv + qd + kd, qd + 2 * kd, rope.q_out, rope.k_pool, rope.v_pool,
                               rope.token_seq, rope.token_pos, rope.block_tables, rope.max_blocks, rope.block_size, M,
                               rope.heads, rope.kv_heads, rope.head_dim, rope.inv_freq, rope_style, st);
}

// K_SPLIT: whether a bulk GEMV splits K over a cluster of two CTAs of four row tiles each (each CTA copies and
// multiplies half the steps of every chunk, slices 4z .. 4z + 3, for 64 rows; the cluster adds every output's eight
// slices in order: the same bits). For matrices of at most 4096 rows (q/o, down, where two row tiles per CTA already
// give every SM a CTA and no walk keeps the tokens): a CTA's tokens are then half of K instead of all of it for the
// same weight bytes, a third less to bring into each SM at M = 16 (down: 687 -> 458 KB).
// Measured on the H100 (docs/KERNELS.md, session 24): it wins on down (K = 14336) at M = 12 and 16 (18.5 -> 17.2 and
// 19.5 -> 18.4 us, two token tiles) and loses at M = 5-9 (down at M = 9 15.8 -> 16.6, at M = 8 14.9 -> 16.1) and on
// q/o (K = 4096) at every M (7.3 -> 8.0 at 16): the cluster's sum costs more than the halved tokens save unless they
// are many and K is long. So by default: M >= 12, K >= 8192, and a split grid of one wave. QSPEC_BULK_SPLIT=0:
// never; =all: every M and N (tests).
inline bool splits_k(int M, int N, int K) {
    static const int mode = env_switch("QSPEC_BULK_SPLIT");
    if (mode == 0) return false;
    return mode == 2 || (M >= 12 && K >= 8192 && 2L * ceil_div(N, 64) <= sm_count());
}

// Launches the K split (K_SPLIT) of MT token tiles: a ring of 4 chunks of half steps, clusters of 2 along z;
// CLUSTERS_UNAVAILABLE where the device refuses the cluster, NO_TENSOR_MAP where the weights have no tensor map.
template <class Kernels, int MT, class... Act>
int launch_k_split(const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K, bool accumulate,
                   cudaStream_t st, Act... act) {
    constexpr int NT = 4, KZ = 2, R = RING;
    using L = Layout<Kernels::XB, NT, R, KZ>;
    CUtensorMap wmap;
    if (!weight_chunk_map(wp, N, K / 2, 16 * NT, WK / KZ, &wmap)) return NO_TENSOR_MAP;
    constexpr auto kernel = Kernels::template k_split_kernel<NT, R, MT, KZ>;
    static unsigned long long smem_allowed;
    if (const int e = allow_dynamic_smem(kernel, L::smem_bytes(8 * MT), smem_allowed)) return e;
    static signed char refused[64];  // devices that cannot run the clusters
    return launch_in_clusters(kernel, dim3(1, ceil_div(N, 16 * NT), KZ), dim3(THREADS), dim3(1, 1, KZ),
                              L::smem_bytes(M), st, refused, wmap, act..., ws, y, ldy, M, N, K, accumulate, PLAIN);
}

// Whether a bulk GEMV of NT row tiles takes the head (epi.head set): the walking KEEP build on a ring of 2, so two
// or four row tiles, K in an even number of chunks, and the M rows' whole K in shared memory beside the ring.
template <int XB, int NT>
inline bool head_fits(int M, int K) {
    using L = Layout<XB, NT, 2>;
    return NT >= 2 && (K / CHUNK) % 2 == 0 &&
           static_smem<NT, 1>() + HEAD_STATIC_SMEM + L::kept_bytes(M, K, 0) <= SMEM_PER_CTA;
}

// Launches the kernel with NT row tiles and MT token tiles (M <= 8 MT) per CTA, the ring as deep as ring_depth
// allows, or returns NOT_TAKEN where the driver cannot describe the weights as a tensor map or the epilogue cannot
// run (it needs one token tile, RoPE one or two; SWIGLU two or four row tiles and tiles that pair; the head, head_fits
// and no norm tail or RoPE). The caller then takes another kernel.
template <class Kernels, int NT, int MT = 1, class... Act>
int launch(const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K, bool accumulate,
           const Epilogue& epi, cudaStream_t st, Act... act) {
    const bool norm = epi.norm.ticket != nullptr, swiglu = epi.swiglu != nullptr, head = epi.head.rows != nullptr,
               rope = epi.rope.q_out != nullptr;
    if ((norm || swiglu) && (MT != 1 || (swiglu && NT < 2))) return NOT_TAKEN;
    if (rope && MT > 2) return NOT_TAKEN;
    if (head && (MT != 1 || norm || rope || !Kernels::NORM_HEAD || !head_fits<Kernels::XB, NT>(M, K))) return NOT_TAKEN;
    if constexpr (Kernels::K_SPLIT) {
        if (!norm && !swiglu && !head && !rope && splits_k(M, N, K)) {
            const int e = launch_k_split<Kernels, MT>(wp, ws, y, ldy, M, N, K, accumulate, st, act...);
            if (e != CLUSTERS_UNAVAILABLE && e != NO_TENSOR_MAP) return e;  // else: the kernels below, the same bits
        }
    }
    CUtensorMap wmap;
    if (!weight_chunk_map(wp, N, K / 2, 16 * NT, WK, &wmap)) return NO_TENSOR_MAP;
    auto ring = [&](auto r, auto keep) {
        constexpr int R = decltype(r)::value;
        constexpr bool KEEP = decltype(keep)::value;
        if constexpr (MT <= 2)
            if (rope)
                return launch_ring<Kernels, NT, R, MT, ROPE_KV, KEEP>(wmap, ws, y, ldy, M, N, K, accumulate, epi, st,
                                                                      act...);
        if constexpr (MT == 1) {
            if (norm)
                return launch_ring<Kernels, NT, R, MT, NORM_TAIL, KEEP>(wmap, ws, y, ldy, M, N, K, accumulate, epi, st,
                                                                        act...);
            if constexpr (NT >= 2 && Kernels::SWIGLU)
                if (swiglu)
                    return launch_ring<Kernels, NT, R, MT, SWIGLU, KEEP>(wmap, ws, y, ldy, M, N, K, accumulate, epi, st,
                                                                         act...);
        }
        return launch_ring<Kernels, NT, R, MT, STORE, KEEP>(wmap, ws, y, ldy, M, N, K, accumulate, epi, st, act...);
    };
    using Plain = std::false_type;
    if constexpr (Kernels::NORM_HEAD && MT == 1 && NT >= 2) {
        if (head) {
            if (!(Kernels::SWIGLU && swiglu))
                return launch_ring<Kernels, NT, 2, MT, STORE, true, true>(wmap, ws, y, ldy, M, N, K, accumulate, epi,
                                                                          st, act...);
            if constexpr (Kernels::SWIGLU)
                return launch_ring<Kernels, NT, 2, MT, SWIGLU, true, true>(wmap, ws, y, ldy, M, N, K, accumulate, epi,
                                                                           st, act...);
        }
    }
    if constexpr (NT == 4)
        if (keeps_tokens<Kernels::XB, MT>(M, N, K, swiglu))
            return ring(std::integral_constant<int, 2>{}, std::true_type{});
    switch (ring_depth<Kernels::XB, NT>(M, static_smem<NT, MT>())) {
        case 2: return ring(std::integral_constant<int, 2>{}, Plain{});
        case 3: return ring(std::integral_constant<int, 3>{}, Plain{});
        default: return ring(std::integral_constant<int, NT == 4 ? DEEPEST_WIDE : RING>{}, Plain{});
    }
}

// Four token tiles (M = 17-32, four_token_tiles) on the row tiles four_token_tiles_rows chooses; launch's returns.
template <class Kernels, class... Act>
int launch_four_token_tiles(const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K, bool accumulate,
                            cudaStream_t st, Act... act) {
    return four_token_tiles_rows(N) == 4
               ? launch<Kernels, 4, 4>(wp, ws, y, ldy, M, N, K, accumulate, PLAIN, st, act...)
               : launch<Kernels, 2, 4>(wp, ws, y, ldy, M, N, K, accumulate, PLAIN, st, act...);
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900  // the kernels that use them are launched on sm_90 only
// A consumer thread's weight-scale rows (ws: [N][groups]) for its weight rows 16i + g and 16i + g + 8 of
// the CTA's row tiles (clamped to N - 1), at the group of step `warp`: chunk c's scale is [c * WK].
template <int NT>
__device__ __forceinline__ void scale_rows(const half* ws, int n_base, int g, int N, int groups, int warp,
                                           const half* (&srow)[NT][2]) {
#pragma unroll
    for (int i = 0; i < NT; ++i)
#pragma unroll
        for (int h = 0; h < 2; ++h) srow[i][h] = ws + (long)min(n_base + 16 * i + 8 * h + g, N - 1) * groups + warp;
}

// A consumer thread's weight-scale rows for the CTA's tile at n_base (scale_rows), read at chunk c as at(ws, i, h, c).
// OFFSETS: held as 32-bit offsets from ws (N * groups < 2^31 for any matrix a GEMM takes; ws itself stays a kernel
// parameter) instead of pointers, half the registers: the two-token-tile walk (KEEP) spills with the pointers.
// Other builds keep the pointers, with which their register allocation was measured.
template <int NT, bool OFFSETS>
struct ScaleRows {
    const half* ptr[OFFSETS ? 1 : NT][2];
    int off[OFFSETS ? NT : 1][2];
    __device__ __forceinline__ void set(const half* ws, int n_base, int g, int N, int groups, int warp) {
        if constexpr (OFFSETS) {
#pragma unroll
            for (int i = 0; i < NT; ++i)
#pragma unroll
                for (int h = 0; h < 2; ++h) off[i][h] = min(n_base + 16 * i + 8 * h + g, N - 1) * groups + warp;
        } else {
            scale_rows(ws, n_base, g, N, groups, warp, ptr);
        }
    }
    __device__ __forceinline__ half at(const half* ws, int i, int h, int c) const {
        if constexpr (OFFSETS) return ws[off[i][h] + c * WK];
        else return ptr[i][h][c * WK];
    }
};

// The CTA's ring in dynamic shared memory (bsm, 128-byte aligned), its barriers initialised by thread 0.
// Call from every thread, before any other use (it synchronises the CTA). KEEP: the activations of the whole K
// (K inputs a token) stay after the ring's weights (Layout::kept_bytes). KZ > 1 (a cluster of KZ CTAs along z
// splits K): CTA z copies steps z SPC .. z SPC + SPC - 1 of each chunk, and warp w multiplies step w % SPC of them
// for the NTW row tiles w / SPC NTW ..: every slice (step of a chunk) is still one warp's, in step order.
template <int XB, int NT = 1, int R = RING, bool KEEP = false, int KZ = 1>
struct Ring {
    using L = Layout<XB, NT, R, KZ>;
    static constexpr int WSTEP = L::WSTEP, WSTAGE = L::WSTAGE;
    static constexpr int SPC = WK / KZ, NTW = NT / KZ;  // steps a CTA takes of a chunk; row tiles of a warp
    static_assert(KZ == 1 || (!KEEP && NT % KZ == 0), "a K split keeps no tokens and divides the row tiles");
    uint64_t* full;
    uint64_t* empty;
    uint8_t* wst;
    uint8_t* xst;
    int kept_pitch;  // KEEP: bytes from a token's activations to the next's
    __device__ Ring(uint8_t* bsm, int K)
        : full(reinterpret_cast<uint64_t*>(bsm)),
          empty(full + R),
          wst(bsm + BARRIERS),
          xst(wst + R * WSTAGE),
          kept_pitch(KEEP ? (int)L::kept_pitch(K) : 0) {
        if (threadIdx.x == 0) {
            for (int st = 0; st < R; ++st) {
                mbar_init(&full[st], 1);
                mbar_init(&empty[st], WK);
            }
            fence_barrier_init();
        }
        __syncthreads();
    }

    // KEEP: the shared memory after the M tokens' activations (two token tiles' reduction buffer)
    __device__ float* after_kept(int M) const { return reinterpret_cast<float*>(xst + M * kept_pitch); }

    // The copying lane: chunk c of each tile of the walk (weights of the tile's 16 NT rows, the M tokens'
    // activations x, rows ldx_bytes apart) into its ring entry, once the consumers are done with the
    // entry's previous chunk. KEEP: the activations only with the walk's first tile, into the kept buffer.
    template <bool WALK>
    __device__ void produce(const CUtensorMap* wmap, const uint8_t* x, long ldx_bytes, int M, const Walk& wk) {
        constexpr int XROW = L::XROW, XPITCH = L::XPITCH;
        const int z0 = KZ > 1 ? (int)blockIdx.z * SPC : 0;  // the CTA's first step of a chunk
        prefetch_tensor_map(wmap);
        grid_dependency_wait();  // x is the kernel before's output (under programmatic dependent launch)
        int tile = wk.tile0, q0 = 0;  // q0: chunks of the walk before this tile's
        do {
            const int n_base = tile * 16 * NT;
            for (int c0 = 0; c0 < wk.nchunks; c0 += R) {
                const unsigned phase = ((q0 + c0) / R) & 1;
                ring_round<R>(c0, wk.nchunks, [&](auto st_c, int c) {
                    constexpr int st = decltype(st_c)::value;
                    if (q0 + c >= R) mbar_wait(&empty[st], phase ^ 1);
                    const bool tokens = !KEEP || q0 == 0;
                    mbar_arrive_expect_tx(&full[st], WSTAGE + (tokens ? M * XROW : 0));
                    // steps c WK + z0 .. c WK + z0 + SPC - 1
                    tma_load_3d(wst + st * WSTAGE, wmap, 0, n_base, c * WK + z0, &full[st]);
                    if (tokens)
                        for (int m = 0; m < M; ++m)
                            bulk_copy_g2s(KEEP ? xst + m * kept_pitch + c * XROW : xst + (m * R + st) * XPITCH,
                                          x + m * ldx_bytes + (long)c * (CHUNK * XB) + (KZ > 1 ? z0 * KSTEP * XB : 0),
                                          XROW, &full[st]);
                });
            }
            q0 += wk.nchunks;
        } while (WALK && (tile += wk.tstep) < wk.ntiles);
    }

    // (WALK = false: the CTA's one tile, tile0; the compiler then keeps no walk state.)
    // A consumer warp: for each tile of the walk, begin(tile), then for every chunk c pre(r, tile, c) (loads
    // for later chunks, issued before the wait), then step(r, c, w, xv) with r = std::integral_constant<int,
    // c % R>{}, this thread's weights of step c * WK + warp (w[i][0]: row 16i + g, w[i][1]: row 16i + g + 8;
    // bytes 16t .. 16t + 15; KZ > 1: step c WK + z0 + warp % SPC, rows 16 (NTW (warp / SPC) + i) + ..., i < NTW)
    // and, for each token tile mt, token xm[mt]'s activations of the thread's 32
    // inputs (from input 32t of the step, XB bytes each; xv(mt, j): its j-th 16 bytes), after which the warp releases
    // the ring entry; then end(tile). KEEP: the activations of chunk c from the kept buffer, where the walk's first
    // tile's wait for chunk c saw them land.
    template <bool WALK, int MT, class Begin, class Pre, class Step, class End>
    __device__ void consume(int warp, int lane, const int (&xm)[MT], const Walk& wk, Begin&& begin, Pre&& pre,
                            Step&& step, End&& end) {
        constexpr int XPITCH = L::XPITCH, XROW = L::XROW, XV = 2 * XB;
        const int g = lane >> 2, t = lane & 3;
        // the warp's step of the CTA's part of a chunk, and (KZ > 1) its rows' first byte in a step of the box
        const int step_of = KZ > 1 ? warp % SPC : warp, rows_at = KZ > 1 ? (warp / SPC) * NTW * 16 * 64 : 0;
        const uint8_t* wt = wst + step_of * WSTEP + rows_at + 16 * t;  // + st * WSTAGE
        const uint8_t* xt[MT];                                           // + st * XPITCH (KEEP: + c * XROW)
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
            xt[mt] = xst + xm[mt] * (KEEP ? kept_pitch : R * XPITCH) + (step_of * KSTEP + 32 * t) * XB;
        int tile = wk.tile0, q0 = 0;
        do {
            begin(tile);
            for (int c0 = 0; c0 < wk.nchunks; c0 += R) {
                const unsigned phase = ((q0 + c0) / R) & 1;
                ring_round<R>(c0, wk.nchunks, [&](auto st_c, int c) {
                    constexpr int st = decltype(st_c)::value;
                    pre(st_c, tile, c);
                    mbar_wait(&full[st], phase);
                    uint4 w[NTW][2];
#pragma unroll
                    for (int i = 0; i < NTW; ++i)
#pragma unroll
                        for (int h = 0; h < 2; ++h)
                            w[i][h] = *reinterpret_cast<const uint4*>(wt + st * WSTAGE + 64 * (16 * i + 8 * h + g));
                    auto x_at = [&](int mt, int j) {
                        return *reinterpret_cast<const uint4*>(xt[mt] + (KEEP ? c * XROW : st * XPITCH) + 16 * j);
                    };
                    if constexpr (MT <= 2) {  // every token fragment in registers before the step
                        uint4 xv[MT][XV];
#pragma unroll
                        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
                            for (int j = 0; j < XV; ++j) xv[mt][j] = x_at(mt, j);
                        step(st_c, c, w, [&](int mt, int j) { return xv[mt][j]; });
                    } else {  // four token tiles: read where the step uses them (all at once they spill)
                        step(st_c, c, w, x_at);
                    }
                    // Released once the step has used every register the chunk was read into, not when the reads
                    // were issued: then the copying lane could refill the entry under a read still in flight (with
                    // a ring of 2 chunks, 1-4 wrong outputs in most runs of `qspec_test bulk`, H200, 2026-12-04).
                    __syncwarp();
                    if (lane == 0) mbar_arrive(&empty[st]);
                });
            }
            end(tile);
            q0 += wk.nchunks;
        } while (WALK && (tile += wk.tstep) < wk.ntiles);
    }
};

// A consumer warp's sums into red, where the reductions read them: [WK][MT][NT][4][32] (warp, token tile, row tile,
// fragment element, lane).
template <int MT, int NT>
__device__ __forceinline__ void park_sums(const float (&acc)[MT][NT][4], float* red, int warp, int lane) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int i = 0; i < NT; ++i)
#pragma unroll
            for (int c = 0; c < 4; ++c) red[(((warp * MT + mt) * NT + i) * 4 + c) * 32 + lane] = acc[mt][i][c];
}

// Adds the consumer warps' accumulators in warp order (0 + P0 + ... + P7, as reduce_store adds them)
// and hands each sum of the 16 NT rows from n_base and the 8 MT tokens to store(m, n, sum), for m < M and n < N
// (each to the thread that handles that (m, n) in every tile). red: WK * MT * NT * 128 floats.
// CONSUMERS: only the WK consumer warps call it (named barrier 1; a walk calls it once per tile, so it first
// waits until every consumer has read the previous tile's sums); otherwise every thread of the CTA does.
// PAIRS: store(m, n, sum, pair) also gets the sum of row n ^ 1, which the lane 4 apart holds (n_base even).
template <bool CONSUMERS, bool PAIRS = false, int MT, int NT, class Store>
__device__ __forceinline__ void reduce_apply(const float (&acc)[MT][NT][4], float* red, int M, int N, int n_base,
                                             Store&& store) {
    constexpr int THREADS_IN = CONSUMERS ? WK * 32 : THREADS;
    auto sync = [] {
        if constexpr (CONSUMERS) asm volatile("bar.sync 1, %0;" ::"n"(WK * 32) : "memory");
        else __syncthreads();
    };
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if constexpr (CONSUMERS) sync();  // the previous tile's sums have been read
    if (warp < WK) park_sums(acc, red, warp, lane);
    sync();
    for (int e = threadIdx.x; e < MT * NT * 128; e += THREADS_IN) {
        const int ln = e & 31, c = (e >> 5) & 3, i = (e >> 7) % NT, mt = (e >> 7) / NT;
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < WK; ++w) sum += red[w * MT * NT * 128 + e];
        const int n = n_base + 16 * i + (ln >> 2) + (c >= 2 ? 8 : 0), m = 8 * mt + 2 * (ln & 3) + (c & 1);
        if constexpr (PAIRS) {  // every lane of the warp is here (the bound and the stride are multiples of 32)
            const float pair = __shfl_xor_sync(0xffffffffu, sum, 4);
            if (m < M && n < N) store(m, n, sum, pair);
        } else if (m < M && n < N) {
            store(m, n, sum);
        }
    }
}

// The K split's sum (K_SPLIT; every thread of both CTAs of the cluster calls it once every warp of the CTA is past
// its last chunk): each consumer warp leaves its sums in red (this CTA's shared memory, [WK][MT][NT / KZ][4][32]);
// CTA z then takes outputs e = z THREADS + ... of the tile and adds each over the ranks in order and, within a rank,
// over the warps of its rows in slice order: 0 + P0 + ... + P7, reduce_apply's order and mapping.
template <int MT, int NT, int KZ>
__device__ __forceinline__ void cluster_reduce_store(const float (&acc)[MT][NT / KZ][4], float* red,
                                                     float* __restrict__ y, int ldy, int M, int N, int n_base,
                                                     bool accumulate) {
    constexpr int NTW = NT / KZ, SPC = WK / KZ;
    cooperative_groups::cluster_group cluster = cooperative_groups::this_cluster();
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (warp < WK) park_sums(acc, red, warp, lane);
    cluster.sync();
    for (int e = threadIdx.x + blockIdx.z * THREADS; e < MT * NT * 128; e += KZ * THREADS) {
        const int ln = e & 31, c = (e >> 5) & 3, i = (e >> 7) % NT, mt = (e >> 7) / NT;
        float sum = 0.f;
        for (int r = 0; r < KZ; ++r) {
            const float* rank = cluster.map_shared_rank(red, r);
#pragma unroll
            for (int s = 0; s < SPC; ++s)
                sum += rank[((((i / NTW) * SPC + s) * MT + mt) * NTW + i % NTW) * 128 + c * 32 + ln];
        }
        const int n = n_base + 16 * i + (ln >> 2) + (c >= 2 ? 8 : 0), m = 8 * mt + 2 * (ln & 3) + (c & 1);
        if (m < M && n < N) store_output(y + (long)m * ldy + n, sum, accumulate);
    }
    cluster.sync();  // keep this CTA's sums until the cluster has read them
}

// reduce_apply storing y [M, N] (rows ldy apart), or adding to it (accumulate).
template <bool CONSUMERS, int MT, int NT>
__device__ __forceinline__ void reduce_store(const float (&acc)[MT][NT][4], float* red, float* __restrict__ y,
                                             int ldy, int M, int N, int n_base, bool accumulate) {
    reduce_apply<CONSUMERS>(acc, red, M, N, n_base,
                            [&](int m, int n, float sum) { store_output(y + (long)m * ldy + n, sum, accumulate); });
}

// A tile's sums under the SWIGLU epilogue (N = 2H rows: gate, then up): a gate tile stores them in y; an up tile
// reads the gate sum of each of its outputs back from y (the same thread stored it, in this CTA's earlier tile of the
// walk: swiglu_grid) and stores silu(gate) * up as fp16 in out [M, H].
template <int MT, int NT>
__device__ __forceinline__ void reduce_swiglu(const float (&acc)[MT][NT][4], float* red, float* __restrict__ y,
                                              int ldy, int M, int N, int n_base, half* __restrict__ out) {
    const int H = N / 2;
    if (n_base < H) {
        reduce_store<true>(acc, red, y, ldy, M, N, n_base, false);
    } else {
        reduce_apply<true>(acc, red, M, N, n_base, [&](int m, int n, float up) {
            out[(long)m * H + n - H] = swiglu_f16(y[(long)m * ldy + n - H], up);
        });
    }
}

// A tile's sums under the ROPE_KV epilogue (the stacked q|k|v rows, N = (heads + 2 kv_heads) head_dim, RoPE pairs
// (2i, 2i + 1)): stores them in y as reduce_store does, and each output where qspec_rope_write_kv stores it
// (rope_kv_store), the two rows of a pair meeting by a shuffle. CONSUMERS as for reduce_apply.
// A thread stores outputs of tokens 8 mt + 2 (lane & 3) and 8 mt + 2 (lane & 3) + 1 only (its lane is the same in
// every element it takes): their positions and cache rows are loaded before the reduction, whose barrier and sums then
// hide the loads' latency, and picked by select (an index computed in the loop would put them in local memory).
template <bool CONSUMERS, int MT, int NT>
__device__ __forceinline__ void reduce_rope_kv(const float (&acc)[MT][NT][4], float* red, float* __restrict__ y,
                                               int ldy, int M, int N, int n_base, const RopeKv& rope) {
    static_assert(MT <= 2, "a thread's tokens are those of one or two token tiles");
    const int m0 = 2 * (threadIdx.x & 3);
    auto token = [&](int m) { return m < M ? rope_token(rope, m) : RopeToken{}; };
    const RopeToken t0 = token(m0), t1 = token(m0 + 1), t2 = MT == 2 ? token(m0 + 8) : RopeToken{},
                    t3 = MT == 2 ? token(m0 + 9) : RopeToken{};
    reduce_apply<CONSUMERS, true>(acc, red, M, N, n_base, [&](int m, int n, float sum, float pair) {
        y[(long)m * ldy + n] = sum;
        const RopeToken t = (MT == 2 && m >= 8) ? ((m & 1) ? t3 : t2) : ((m & 1) ? t1 : t0);
        rope_kv_store(rope, t, m, n, sum, pair);
    });
}

// A tile's sums into y, with the ROPE_KV epilogue's stores where EPI asks for them (the other epilogues have their
// own calls): reduce_rope_kv or reduce_store, CONSUMERS as for reduce_apply.
template <bool CONSUMERS, int EPI, int MT, int NT>
__device__ __forceinline__ void reduce_tile(const float (&acc)[MT][NT][4], float* red, float* __restrict__ y, int ldy,
                                            int M, int N, int n_base, bool accumulate, const Epilogue& epi) {
    if constexpr (EPI == ROPE_KV) reduce_rope_kv<CONSUMERS>(acc, red, y, ldy, M, N, n_base, epi.rope);
    else reduce_store<CONSUMERS>(acc, red, y, ldy, M, N, n_base, accumulate);
}
#endif

}  // namespace w4::bulk
