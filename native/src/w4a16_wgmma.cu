// Verify GEMM (W4A16) for many tokens on sm_90a: warpgroup MMA (wgmma) on fp16 tensor cores, the 4-bit
// weights unpacked to fp16 in registers (the A operand), the tokens in shared memory (the B operand).
//
// It gives the bits of the other W4A16 kernels (w4a16_gemm.cu), which QSpec's exactness needs: every
// output is summed as step_mma sums it. A 128-input step is 8 MMAs of 16 inputs from zero, the MMA of
// word j, half q taking the inputs 32t + 8j + 2q + {0, 1, 4, 5} (t = 0..3: the four threads of a quad in
// step_mma), in that order of MMAs; the step's fp32 sums are folded with fmaf(sum, scale, slice); slice z
// (steps z, z + 8, ...) is summed in step order, and total = 0 + P0 + P1 + ... + P7. wgmma's sums of 16
// products have the bits of mma.sync's whatever the order of the 16 inside one MMA, with either operand
// in registers or shared memory (native/test/wgmma_bits.cu, 2,048,000 outputs on the H200), so only the
// sets of inputs per MMA must match: the weights' registers are step_mma's, and the feeding warpgroup
// writes the tokens in the same order. (A first version that also unpacked the weights into shared memory
// ran 2.5x slower: shared-memory traffic, docs/KERNELS.md.)
//
// A CTA computes 128 weight rows x BN tokens (64, or 32: grid_of) with three warpgroups:
//  - warpgroup 0 feeds. One lane copies, through the tensor memory accelerator, each step's packed
//    weights (128 rows x 64 bytes), the tokens' fp16 activations (BN rows x 256 bytes, as two boxes with
//    the 128-byte swizzle) and the scale box holding the step's group (128 rows x 8 groups) a few steps
//    ahead. All 128 threads then write the step's tokens in MMA order into the swizzled K-major layout
//    wgmma reads (byte permutes), and the step's scales as floats.
//  - warpgroups 1 and 2 each multiply 64 of the rows by the BN tokens: each thread unpacks its two rows'
//    16 bytes to fp16 codes q = u - 8 in registers, exactly as step_mma does, and they are the A operand
//    of eight m64nBNk16 MMAs per step (the tokens, from shared memory, the B operand). Each unpacks step
//    i + 1 into a second set of registers while its MMAs of step i run (setmaxnreg gives the multiplying
//    warpgroups the registers the feeding one does not need). The two warpgroups take turns, as in the
//    draft's warpgroup kernel, and fold. The warpgroup index goes through a shuffle so that the compiler
//    knows it is warp-uniform: the loop counters and MMA descriptors then live in uniform registers.
// Steps run in slice order. Where the grid is small, K is split across a cluster of 8 CTAs, one slice
// each, whose totals are added in rank order through distributed shared memory: the same sum.
// Where K is not split and the grid is large, a CTA takes 256 rows instead (TILES = 2): each multiplying
// warpgroup then multiplies two 64-row tiles by the same token tile, one tile per turn
// (multiply_two_tiles), so each copied token tile serves twice the rows.
#include "tensor_map.cuh"
#include "token_scratch.cuh"
#include "w4_bulk.cuh"  // env_switch
#include "w4a16_wgmma.cuh"
#include "w4ax_wgmma.cuh"  // wgmma_built_for_device
#include "wgmma.cuh"
#include "wgmma_cta.cuh"

namespace w4::wgmma_verify {
namespace {

constexpr int KSTEP = 128;      // inputs per step: one scale group
constexpr int THREADS = 384;    // warpgroup 0 feeds, 1 and 2 multiply
constexpr int SLICES = 8;       // the W4A16 kernels' K slices (w4::WK)
constexpr int SCALE_STEPS = 8;  // groups per scale box (16 bytes of fp16 per row: TMA's minimum)
// BN: tokens per CTA, 64 or 32. A 32-token tile halves the tokens copied and permuted per step and the MMAs' width
// for passes of 17-32 tokens, whose 64-token tile is half padding (docs/KERNELS.md, session 22; grid_of).
template <int BN>
constexpr int B_TILE = BN * 128;  // bytes of a k-tile (64 inputs) of BN tokens in MMA order

// TILES: 64-row tiles per multiplying warpgroup. 1: 128 weight rows per CTA; 2: 256, which share each token
// tile between twice the rows (18 instead of 26 KB copied per 128 x 64 of work), for grids of many CTAs.
// DIRECT (session 49; by rule since session 50, direct_of): the tokens arrive permuted into MMA order
// (permute_tokens_direct), so the MMAs read them, and the fold its scales, from the copy stages themselves: no operand
// stages, no feeding pass. The copy stages then take the operand stages' shared memory.
template <int TILES, bool DIRECT = false>
struct Shape {
    static constexpr int ROWS = 128 * TILES;  // weight rows per CTA
    static constexpr int IN_STAGES = DIRECT ? (TILES == 1 ? 8 : 6) : TILES == 1 ? 6 : 5;  // steps of copies in flight
    static constexpr int AB_STAGES = DIRECT ? 0 : TILES == 1 ? 3 : 2;  // steps of MMA operands: one multiplied while the next are written
};

// Dynamic shared memory from a 1024-byte aligned base (the swizzle's atom).
template <int TILES, int BN, bool DIRECT = false>
struct Layout {
    using Sh = Shape<TILES, DIRECT>;
    static constexpr int ROWS = Sh::ROWS, IN_STAGES = Sh::IN_STAGES, AB_STAGES = Sh::AB_STAGES;
    // a copy stage: tokens [2 boxes: quads 0-1, 2-3][BN][128 B] (swizzled), packed weights [ROWS][64 B],
    // scale box [ROWS][8] fp16
    static constexpr int X_BOX = BN * 128, X = 2 * X_BOX, RAW = ROWS * KSTEP / 2, WS = ROWS * SCALE_STEPS * 2;
    static constexpr int IN = X + RAW + WS;
    // an operand stage: tokens in MMA order [2 k-tiles][BN][128 B] (swizzled), scales float[ROWS]
    static constexpr int B = 2 * B_TILE<BN>, SC = ROWS * 4;
    static constexpr int AB = (B + SC + 1023) / 1024 * 1024;
    static constexpr int ab_off = IN_STAGES * IN;  // the copy stages first, from 0
    // in_full[IN_STAGES], ab_full, ab_empty[AB_STAGES]; DIRECT: in_full, in_empty[IN_STAGES]
    static constexpr int bar_off = ab_off + AB_STAGES * AB;
    static constexpr size_t bytes = bar_off + (DIRECT ? 2 * IN_STAGES : IN_STAGES + 2 * AB_STAGES) * 8 + 1024;  // + alignment slack
    static_assert(bytes <= 227 * 1024, "one CTA per SM");
    static_assert(IN % 1024 == 0 && AB % 1024 == 0, "swizzled tiles on 1024-byte atoms");
    static_assert(IN_STAGES > AB_STAGES, "the feeder copies step i + IN_STAGES - AB_STAGES while it writes step i");
    static_assert(!DIRECT || X_BOX % 1024 == 0, "DIRECT: the MMAs read the copied token boxes");
};

#if defined(QSPEC_WGMMA)
// registers per thread after setmaxnreg: 128 x 72 + 256 x 216 = 384 x 168, the CTA's at launch (the feeder needs
// more than 56; the multiplying threads of two tiles hold ~200 without spills)
constexpr int FEED_REGS = 72, MULTIPLY_REGS = 216;

// The scale of weight row r for step `step` (the i-th of the CTA): the float the feeding warpgroup wrote into operand
// stage b, or (DIRECT) the fp16 of the scale box in copy stage si, converted as the feeder would.
template <int TILES, int BN, bool DIRECT>
__device__ __forceinline__ float row_scale(const uint8_t* sm, int si, int b, int step, int r) {
    using L = Layout<TILES, BN, DIRECT>;
    if constexpr (DIRECT)
        return __half2float(reinterpret_cast<const half*>(sm + si * L::IN + L::X + L::RAW)[r * SCALE_STEPS + step % SCALE_STEPS]);
    else
        return reinterpret_cast<const float*>(sm + L::ab_off + b * L::AB + L::B)[r];
}

// The steps of a CTA in slice order: slice z, then z + 1, ...; step = slice + 8k, k < per_slice.
struct StepWalk {
    int slice, k, per_slice;
    __device__ StepWalk(int first_slice, int per_slice_) : slice(first_slice), k(0), per_slice(per_slice_) {}
    __device__ int step() const { return slice + SLICES * k; }
    __device__ bool last_of_slice() const { return k == per_slice - 1; }
    __device__ void next() {
        if (++k == per_slice) {
            k = 0;
            ++slice;
        }
    }
};

// The A fragments of rows r0 and r0 + 8 for a step's 8 MMAs, as step_mma builds them, from the step's packed
// weights in shared memory (raw: [rows][64 B]); t: the thread's place in its quad.
__device__ __forceinline__ void unpack_rows(const uint8_t* raw, int r0, int t, uint32_t (&a)[8][4]) {
    const uint4 wl = *reinterpret_cast<const uint4*>(raw + r0 * 64 + 16 * t);
    const uint4 wh = *reinterpret_cast<const uint4*>(raw + (r0 + 8) * 64 + 16 * t);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        half2 lo[4], hi[4];
        int4_to_half2x4(j == 0 ? wl.x : j == 1 ? wl.y : j == 2 ? wl.z : wl.w, lo);
        int4_to_half2x4(j == 0 ? wh.x : j == 1 ? wh.y : j == 2 ? wh.z : wh.w, hi);
#pragma unroll
        for (int q = 0; q < 2; ++q) {
            a[2 * j + q][0] = *reinterpret_cast<uint32_t*>(&lo[2 * q]);
            a[2 * j + q][1] = *reinterpret_cast<uint32_t*>(&hi[2 * q]);
            a[2 * j + q][2] = *reinterpret_cast<uint32_t*>(&lo[2 * q + 1]);
            a[2 * j + q][3] = *reinterpret_cast<uint32_t*>(&hi[2 * q + 1]);
        }
    }
    // finished here, not after the turn's barrier (where the compiler would otherwise sink the last adds)
#pragma unroll
    for (int c = 0; c < 8; ++c) asm volatile("" : "+r"(a[c][0]), "+r"(a[c][1]), "+r"(a[c][2]), "+r"(a[c][3]));
}

// One turn of a multiplying warpgroup: once it is this warpgroup's turn, the 8 MMAs of a step on one 64-row tile
// (A: the tile's fragments; B: the operand stage whose descriptor's low word is stage_lo) into part, from zero;
// then the turn passes to the other warpgroup.
template <int BN>
__device__ __forceinline__ void issue_turn(float (&part)[BN / 2], const uint32_t (&a)[8][4], uint32_t stage_lo,
                                           uint32_t desc_hi, bool pingpong, int me, int turn, int turns) {
#pragma unroll
    for (int k = 0; k < BN / 2; ++k) asm volatile("" : "+f"(part[k])::"memory");
    wgmma_cta::wait_turn(pingpong, me, turn);
    __syncwarp();  // the MMAs are warp-synchronous: converge after the waits
    wgmma::fence();
#pragma unroll
    for (int c = 0; c < 8; ++c) {
        const uint32_t lo = stage_lo + (c / 4) * (B_TILE<BN> >> 4) + 2 * (c % 4);
        wgmma::wgmma_f16<BN>(part, a[c], (static_cast<uint64_t>(desc_hi) << 32) | lo, c);
    }
    wgmma::commit();
    wgmma_cta::pass_turn(pingpong, me, turn, turns);
}

// Waits for the turn's MMAs: part holds their sums, and a's registers are free only from here.
template <int P>
__device__ __forceinline__ void finish_turn(float (&part)[P], const uint32_t (&a)[8][4]) {
    wgmma::wait<0>();
#pragma unroll
    for (int k = 0; k < P; ++k) asm volatile("" : "+f"(part[k])::"memory");
#pragma unroll
    for (int c = 0; c < 8; ++c) asm volatile("" ::"r"(a[c][0]), "r"(a[c][1]), "r"(a[c][2]), "r"(a[c][3]));
}

// The fold of a step: slice += the step's sums x the scale of each of the thread's two rows (step_mma's fmaf).
template <int P>
__device__ __forceinline__ void fold(const float (&part)[P], float s0, float s1, float (&slice)[P]) {
#pragma unroll
    for (int j = 0; j < P / 4; ++j) {
        slice[4 * j + 0] = fmaf(part[4 * j + 0], s0, slice[4 * j + 0]);
        slice[4 * j + 1] = fmaf(part[4 * j + 1], s0, slice[4 * j + 1]);
        slice[4 * j + 2] = fmaf(part[4 * j + 2], s1, slice[4 * j + 2]);
        slice[4 * j + 3] = fmaf(part[4 * j + 3], s1, slice[4 * j + 3]);
    }
}

// The end of a slice: total += the slice's sums (the slice order of the W4A16 kernels), and the next slice from 0.
template <int P>
__device__ __forceinline__ void end_slice(float (&slice)[P], float (&total)[P]) {
#pragma unroll
    for (int k = 0; k < P; ++k) {
        total[k] += slice[k];
        slice[k] = 0.f;
    }
}

// The multiplying warpgroups of a 256-row CTA (TILES = 2, K not split): warpgroup me multiplies the row tiles me
// and me + 2 (64 rows each) by the step's tokens, one tile per turn, so that the two warpgroups' turns alternate
// as with one tile: (step 0, tile 0) of warpgroup 0, of warpgroup 1, (step 0, tile 1) of warpgroup 0, ... While a
// turn's MMAs run, nothing else of this warpgroup is left to do but to wait; then it unpacks the next turn's
// fragments into the same registers (the other warpgroup's MMAs run meanwhile) and folds. Each output has the
// bits of the one-tile kernel: the same MMAs, fold, slice order and total.
// DIRECT: the operands and scales of step i are those of its copy stage, and `ab_empty` is the copy stages' in_empty.
template <int BN, bool DIRECT>
__device__ __forceinline__ void multiply_two_tiles(uint8_t* sm, uint64_t* in_full, uint64_t* ab_full,
                                                   uint64_t* ab_empty, int me, int first_slice, int per_slice,
                                                   int nsteps, bool pingpong, int n0, int m0, float* __restrict__ y,
                                                   int ldy, int M, int N, bool accumulate) {
    using L = Layout<2, BN, DIRECT>;
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(MULTIPLY_REGS));
    const int tid = threadIdx.x & 127, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    const int r0 = 64 * me + 16 * warp + g;  // tile 0's rows r0, r0 + 8; tile 1's 128 more
    const uint64_t desc = wgmma::sw128_desc(sm + L::ab_off);
    const uint32_t desc_lo = static_cast<uint32_t>(desc), desc_hi = static_cast<uint32_t>(desc >> 32);
    const uint32_t in_lo = static_cast<uint32_t>(wgmma::sw128_desc(sm));  // DIRECT: the copy stages' tokens
    float part[BN / 2], acc[2][BN / 2], total[2][BN / 2];
#pragma unroll
    for (int k = 0; k < BN / 2; ++k) acc[0][k] = acc[1][k] = total[0][k] = total[1][k] = 0.f;
    uint32_t a[8][4];  // the next turn's fragments
    mbar_wait(&in_full[0], 0);
    unpack_rows(sm + L::X, r0, t, a);
    StepWalk walk(first_slice, per_slice);
    for (int i = 0; i < nsteps; ++i, walk.next()) {
        constexpr int AB_STAGES = DIRECT ? 1 : L::AB_STAGES;  // (none where DIRECT)
        const int b = i % AB_STAGES, si = i % L::IN_STAGES;
        const bool last_of_slice = walk.last_of_slice();
        if (!DIRECT) mbar_wait(&ab_full[b], (i / AB_STAGES) & 1);
        const uint32_t stage_lo = DIRECT ? in_lo + si * (L::IN >> 4) : desc_lo + b * (L::AB >> 4);
        auto scale = [&](int r) { return row_scale<2, BN, DIRECT>(sm, si, b, walk.step(), r); };
#pragma unroll
        for (int T = 0; T < 2; ++T) {
            issue_turn<BN>(part, a, stage_lo, desc_hi, pingpong, me, 2 * i + T, 2 * nsteps);
            finish_turn(part, a);
            // the next turn's fragments: tile 1 of this step (its weights are in the same copy stage), or tile 0 of the next
            if (T == 0) {
                unpack_rows(sm + si * L::IN + L::X, r0 + 128, t, a);
            } else if (i + 1 < nsteps) {
                const int sn = (i + 1) % L::IN_STAGES;
                mbar_wait(&in_full[sn], ((i + 1) / L::IN_STAGES) & 1);
                unpack_rows(sm + sn * L::IN + L::X, r0, t, a);
            }
            fold(part, scale(r0 + 128 * T), scale(r0 + 128 * T + 8), acc[T]);
            if (last_of_slice) end_slice(acc[T], total[T]);
        }
        __syncwarp();
        if (lane == 0) mbar_arrive(&ab_empty[DIRECT ? si : b]);  // this warp's MMAs and reads of step i are done
    }
#pragma unroll
    for (int T = 0; T < 2; ++T)
#pragma unroll
        for (int k = 0; k < BN / 2; ++k)
            wgmma_cta::store_fragment(k, total[T][k], n0 + 128 * T, m0, y, ldy, M, N, accumulate);
}
#endif

// Grid z = 1: one CTA walks all 8 slices; z = 8 / SPC (a cluster, one tile per warpgroup only): CTA z walks slices
// SPC z .. SPC z + SPC - 1, each summed apart (the cluster adds them in slice order).
// DIRECT: xmap maps the tokens permuted into MMA order (permute_tokens_direct); the feeding warpgroup only copies.
template <int TILES, int BN, int SPC = 1, bool DIRECT = false>
__global__ void __launch_bounds__(THREADS, 1)
    w4a16_wgmma_kernel(const __grid_constant__ CUtensorMap wmap, const __grid_constant__ CUtensorMap xmap,
                       const __grid_constant__ CUtensorMap wsmap, float* __restrict__ y, int ldy, int M, int N,
                       int steps, bool accumulate, bool pingpong) {
#if defined(QSPEC_WGMMA)
    using L = Layout<TILES, BN, DIRECT>;
    constexpr int ROWS = L::ROWS, IN_STAGES = L::IN_STAGES, AB_STAGES = L::AB_STAGES;
    static_assert(SPC == 1 || (TILES == 1 && SPC * BN / 2 * 256 * 4 <= IN_STAGES * L::IN),
                  "the slices' sums fit the copy stages");
    extern __shared__ uint8_t smem_base[];
    uint8_t* const sm = smem_base + ((1024 - (smem_addr(smem_base) & 1023)) & 1023);
    uint64_t* const in_full = reinterpret_cast<uint64_t*>(sm + L::bar_off);
    uint64_t* const ab_full = in_full + IN_STAGES;
    uint64_t* const ab_empty = ab_full + AB_STAGES;
    uint64_t* const in_empty = in_full + IN_STAGES;  // DIRECT (no operand stages): a copy stage is multiplied
    const int n0 = blockIdx.y * ROWS, m0 = blockIdx.x * BN;
    const int per_slice = steps / SLICES, first_slice = gridDim.z == 1 ? 0 : blockIdx.z * SPC;
    const int nsteps = gridDim.z == 1 ? steps : SPC * per_slice;  // this CTA's
    // the warpgroup, known to the compiler as the same across each warp (its branches then stay uniform)
    const int wg = __shfl_sync(0xffffffffu, threadIdx.x >> 7, 0), tid = threadIdx.x & 127;

    if (threadIdx.x == 0) {
        for (int i = 0; i < IN_STAGES; ++i) {
            mbar_init(&in_full[i], 1);
            if (DIRECT) mbar_init(&in_empty[i], 8);  // one arrival per multiplying warp: its MMAs and reads are done
        }
        for (int i = 0; i < AB_STAGES; ++i) {
            mbar_init(&ab_full[i], 1);
            mbar_init(&ab_empty[i], 8);  // one arrival per multiplying warp: its MMAs and reads of the step are done
        }
        fence_barrier_init();
    }
    __syncthreads();

    auto store = [&](int i, float v) { wgmma_cta::store_fragment(i, v, n0, m0, y, ldy, M, N, accumulate); };
    if (wg == 0) {
        // ---- feeding warpgroup ----
        asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(FEED_REGS));
        auto copy = [&](int stage, int s) {  // step s's tokens, packed weights and scale box
            uint8_t* in = sm + stage * L::IN;
            mbar_arrive_expect_tx(&in_full[stage], L::IN);
            tma_load_2d(in, &xmap, s * KSTEP, m0, &in_full[stage]);
            tma_load_2d(in + L::X_BOX, &xmap, s * KSTEP + 64, m0, &in_full[stage]);
            tma_load_2d(in + L::X, &wmap, s * (KSTEP / 16), n0, &in_full[stage]);
            tma_load_2d(in + L::X + L::RAW, &wsmap, s / SCALE_STEPS * SCALE_STEPS, n0, &in_full[stage]);
        };
        StepWalk ahead(first_slice, per_slice);  // (thread 0) the next step to copy
        if (tid == 0) {
            prefetch_tensor_map(&wmap);
            prefetch_tensor_map(&xmap);
            for (int i = 0; i < IN_STAGES && i < nsteps; ++i, ahead.next()) copy(i, ahead.step());
            if constexpr (DIRECT)  // each copy once the multiplying warps are done with its stage
                for (int i = IN_STAGES; i < nsteps; ++i, ahead.next()) {
                    mbar_wait(&in_empty[i % IN_STAGES], ((i / IN_STAGES) - 1) & 1);
                    copy(i % IN_STAGES, ahead.step());
                }
        }
        StepWalk walk(first_slice, per_slice);
        if constexpr (!DIRECT)  // (DIRECT: nothing to write)
        for (int i = 0; i < nsteps; ++i, walk.next()) {
            const int b = i % AB_STAGES, si = i % IN_STAGES, s = walk.step();
            // Tokens: task (token r, word j). Word j of quad t holds inputs 32t + 8j .. + 7 (box t / 2, unit
            // 4 (t % 2) + j); MMA c = 2j + q takes, at k = 2t and 2t + 1, the inputs 2q and 2q + 4 of it, and at
            // k = 8 + 2t, 9 + 2t, the inputs 2q + 1 and 2q + 5 (the pairs int4_to_half2x4 gives the weights).
            // All loads first (the compiler cannot move a shared-memory load above a store), while the operand
            // stage may still be in use.
            mbar_wait(&in_full[si], (i / IN_STAGES) & 1);
            const uint8_t* in = sm + si * L::IN;
            constexpr int TASKS = BN / 32;  // of 4 BN (token, word) tasks per step, each thread's
            uint4 xq[TASKS][4];
#pragma unroll
            for (int h = 0; h < TASKS; ++h) {
                const int e = tid + 128 * h, r = e & (BN - 1), j = e / BN;
#pragma unroll
                for (int t = 0; t < 4; ++t)
                    xq[h][t] = *reinterpret_cast<const uint4*>(in + (t / 2) * L::X_BOX + r * 128 + (((4 * (t % 2) + j) ^ (r & 7)) << 4));
            }
            float scale[TILES];  // rows tid + 128 u
#pragma unroll
            for (int u = 0; u < TILES; ++u)
                scale[u] = __half2float(
                    reinterpret_cast<const half*>(in + L::X + L::RAW)[(tid + 128 * u) * SCALE_STEPS + s % SCALE_STEPS]);
            if (i >= AB_STAGES) {
                mbar_wait(&ab_empty[b], ((i / AB_STAGES) - 1) & 1);  // step i - AB_STAGES is multiplied: its stages are free
                if (tid == 0 && i - AB_STAGES + IN_STAGES < nsteps) {
                    copy((i - AB_STAGES) % IN_STAGES, ahead.step());
                    ahead.next();
                }
            }
            uint8_t* ab = sm + L::ab_off + b * L::AB;
#pragma unroll
            for (int h = 0; h < TASKS; ++h) {
                const int e = tid + 128 * h, r = e & (BN - 1), j = e / BN;
#pragma unroll
                for (int q = 0; q < 2; ++q) {
                    const int c = 2 * j + q;
                    uint32_t lo[4], hi[4];
#pragma unroll
                    for (int t = 0; t < 4; ++t) {
                        const uint32_t a0 = q ? xq[h][t].y : xq[h][t].x, a1 = q ? xq[h][t].w : xq[h][t].z;
                        lo[t] = __byte_perm(a0, a1, 0x5410);
                        hi[t] = __byte_perm(a0, a1, 0x7632);
                    }
                    uint8_t* row = ab + (c / 4) * B_TILE<BN> + r * 128;
                    *reinterpret_cast<uint4*>(row + (((2 * (c % 4)) ^ (r & 7)) << 4)) = make_uint4(lo[0], lo[1], lo[2], lo[3]);
                    *reinterpret_cast<uint4*>(row + (((2 * (c % 4) + 1) ^ (r & 7)) << 4)) = make_uint4(hi[0], hi[1], hi[2], hi[3]);
                }
            }
#pragma unroll
            for (int u = 0; u < TILES; ++u) reinterpret_cast<float*>(ab + L::B)[tid + 128 * u] = scale[u];
            wgmma::fence_shared_for_async();
            asm volatile("bar.sync 1, 128;" ::: "memory");  // the warpgroup has written step i's operands
            if (tid == 0) mbar_arrive(&ab_full[b]);
        }
    } else if constexpr (TILES == 2) {
        multiply_two_tiles<BN, DIRECT>(sm, in_full, ab_full, DIRECT ? in_empty : ab_empty, wg - 1, first_slice, per_slice, nsteps, pingpong, n0, m0,
                               y, ldy, M, N, accumulate);
    } else {
        // ---- multiplying warpgroups: rows 64 me .. 64 me + 63 ----
        asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(MULTIPLY_REGS));
        const int me = wg - 1, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
        const int r0 = 64 * me + 16 * warp + g;  // and r0 + 8
        // the descriptors' low words: the operand stage's address / 16 (the high word is the same for all)
        const uint64_t desc = wgmma::sw128_desc(sm + L::ab_off);
        const uint32_t desc_lo = static_cast<uint32_t>(desc), desc_hi = static_cast<uint32_t>(desc >> 32);
        float part[BN / 2], acc[BN / 2], total[SPC][BN / 2];  // total[u]: slice first_slice + u alone (SPC > 1)
#pragma unroll
        for (int i = 0; i < BN / 2; ++i) {
            acc[i] = 0.f;
#pragma unroll
            for (int u = 0; u < SPC; ++u) total[u][i] = 0.f;
        }
        // step i's A fragments of rows r0, r0 + 8 for the 8 MMAs, as step_mma builds them
        auto unpack = [&](int i, uint32_t(&a)[8][4]) {
            const int si = i % IN_STAGES;
            mbar_wait(&in_full[si], (i / IN_STAGES) & 1);
            unpack_rows(sm + si * L::IN + L::X, r0, t, a);
        };
        // step i: its MMAs from a, then step i + 1's unpacking into next while they run, then the fold
        // DIRECT: step i's tokens and scales are in its copy stage, which unpack(i) has waited for
        const uint32_t in_lo = static_cast<uint32_t>(wgmma::sw128_desc(sm));
        auto multiply = [&](int i, const StepWalk& w, uint32_t(&a)[8][4], uint32_t(&next)[8][4]) {
            constexpr int ABS = DIRECT ? 1 : AB_STAGES;  // (no operand stages where DIRECT)
            const int b = i % ABS, si = i % IN_STAGES;
            if (!DIRECT) mbar_wait(&ab_full[b], (i / ABS) & 1);
            issue_turn<BN>(part, a, DIRECT ? in_lo + si * (L::IN >> 4) : desc_lo + b * (L::AB >> 4), desc_hi, pingpong,
                           me, i, nsteps);
            if (i + 1 < nsteps) unpack(i + 1, next);  // while the MMAs run
            finish_turn(part, a);
            fold(part, row_scale<TILES, BN, DIRECT>(sm, si, b, w.step(), r0),
                 row_scale<TILES, BN, DIRECT>(sm, si, b, w.step(), r0 + 8), acc);
            __syncwarp();
            if (lane == 0) mbar_arrive(DIRECT ? &in_empty[si] : &ab_empty[b]);  // this warp's MMAs and reads of step i are done
            if (w.last_of_slice()) {
                if constexpr (SPC == 1) {
                    end_slice(acc, total[0]);
                } else {  // total[u] = 0 + the slice's sums once, + 0 otherwise (the same bits: no total is -0)
                    const int u_end = w.slice - first_slice;
#pragma unroll
                    for (int u = 0; u < SPC; ++u)
#pragma unroll
                        for (int k = 0; k < BN / 2; ++k) total[u][k] += u == u_end ? acc[k] : 0.f;
#pragma unroll
                    for (int k = 0; k < BN / 2; ++k) acc[k] = 0.f;
                }
            }
        };
        uint32_t a0[8][4], a1[8][4];
        StepWalk walk(first_slice, per_slice);
        unpack(0, a0);
        for (int i = 0; i < nsteps; i += 2) {  // two steps a turn: the fragments alternate between a0 and a1
            multiply(i, walk, a0, a1);
            walk.next();
            if (i + 1 < nsteps) {
                multiply(i + 1, walk, a1, a0);
                walk.next();
            }
        }
        if (gridDim.z == 1) {
#pragma unroll
            for (int k = 0; k < BN / 2; ++k) store(k, total[0][k]);
        } else {  // this CTA's slices to shared memory, once both warpgroups' MMAs are done with the operands
            asm volatile("bar.sync 4, 256;" ::: "memory");
            float* slice = reinterpret_cast<float*>(sm);  // [SPC][BN / 2][256]
#pragma unroll
            for (int u = 0; u < SPC; ++u)
#pragma unroll
                for (int k = 0; k < BN / 2; ++k) slice[(u * (BN / 2) + k) * 256 + threadIdx.x - 128] = total[u][k];
        }
    }
    if (TILES == 1 && gridDim.z > 1)
        wgmma_cta::cluster_sum_store<BN / 2, SPC>(reinterpret_cast<float*>(sm), SLICES / SPC, wg > 0, store);
#endif
}

// The grid of a call: the CTAs along K (1, or a cluster of 8, one slice each), or 0 where the other kernels
// are faster. Measured on the H200 at Llama-3-8B shapes (docs/KERNELS.md):
// - K is split where the grid would give at most a quarter of the SMs a CTA (q/o and down at M = 64, k/v),
//   or half of them with at least 8 steps per slice (down at M = 128: 71 against 85 us); not where the
//   slices would be short (q/o at M = 128, 4 steps each: 34 against 27 us).
// - The kernel wins from M = 64 on every shape (1.4-2.1x the kernels before), and at M = 33-63 also split
//   (down at M = 40: 40.4 against 65.9 us, q/o 19.4 against 23.0, k/v 6.8 against 10.1: past 32 tokens the
//   cluster kernel runs 8 token tiles instead of 4). At M = 17-32 only where the grid needs no split (gate/up,
//   lm_head, gate+up; split, down took 39.8 against 37.7 and q/o 18.9 against 14.9 at M = 32). From M = 17 since
//   session 15: a 64-token tile for 17-31 tokens costs what it costs for 32, where the cluster kernel at M = 28
//   took gate/up 34.0 against the tile's 27.1 at M = 32 and lm_head 268.6 against 169.0.
// - 256-row CTAs (two tiles per warpgroup) where K is not split and they take fewer waves: a 256-row CTA runs
//   ~1.6x as long as a 128-row one (gate/up at M = 128: 112 CTAs in 41.7 us against 224 in 51.6; at M = 64, 56
//   CTAs in 41.7 against 112 in 27.4), one CTA per SM.
// - 32-token tiles for passes of 17-32 tokens (session 22, measured on the H200, docs/KERNELS.md): gate/up at M = 24
//   and 32 27.4 -> 24.0 us, gate+up 45 -> 36.5-36.8, lm_head 170-174 -> 136-141. The rules above, measured with
//   64-token tiles, count the CTAs of the tile taken. With them a split pays at M <= 32 where the split grid is one
//   wave or its slices are long: down at M = 24-32 37.7 -> 32.8 us, k/v 6.8 -> 5.6; not on q/o (14.8 -> 15.9).
//   At M = 9-16 they lose to the bulk-copy kernels (gate/up 17.6 against 24.0 at M = 16).
// - Session 23 (H200, docs/KERNELS.md): at M <= 32, where 8 slices a cluster do not pay, a grid of at most half the
//   SMs' CTAs splits in clusters of 2 (4 slices a CTA): the stacked q|k|v at M = 17-32 17.6 -> 15.3 us (the cluster
//   kernel before), q/o 14.7 -> 14.5 (clusters of 4: 16.6 and 15.8). At M = 33-64 a 64-token grid that neither
//   splits nor gives half the SMs a CTA takes 32-token tiles, twice the CTAs: q|k|v 27.9-28.4 -> 22.4-23.3 us
//   (32-token tiles on every shape there lost 9-48 %). Session 47 (H100, docs/KERNELS.md) measured every switch of
//   this rule at 32-128 tokens: the rule was the fastest or within noise everywhere except q/o at 128 tokens, whose 64
//   CTAs of 64-token tiles neither split (4-step slices) nor fill half the SMs: 32-token tiles 25.9 -> 22.1 us. So the
//   rule counts the 64-token grid's CTAs up to 128 tokens (on Llama-3-8B it changes q/o at 65-128 tokens only).
// QSPEC_WGMMA_VERIFY_SPLIT=1|8 forces the split (8 also at M <= 32; 2|4, with 32-token tiles only: clusters of 2
// or 4 CTAs of 4 or 2 slices each), QSPEC_WGMMA_VERIFY_SMALL_GRIDS=0 session 23's two rules off (the clusters of 2
// and the 32-token tiles at 33-128 tokens), QSPEC_WGMMA_VERIFY_ROWS=128|256
// the rows per CTA where K is not split, QSPEC_WGMMA_VERIFY_BN=32|64 the tokens per CTA at every M,
// QSPEC_WGMMA_VERIFY_BN32_MAX_M the most tokens of a 32-token tile (32; 0: never), and QSPEC_WGMMA_VERIFY_MIN_M
// the fewest tokens (measurements); QSPEC_WGMMA_VERIFY=all takes the kernel at every M and N (tests).
struct Grid {
    int split = 0;  // 0: not this kernel
    int tiles = 1;  // 64-row tiles per multiplying warpgroup
    int bn = 64;    // tokens per CTA
};
Grid grid_of(int M, int N, int steps, bool all) {
    static const int forced_split = env_int("QSPEC_WGMMA_VERIFY_SPLIT", 0),
                     min_m = env_int("QSPEC_WGMMA_VERIFY_MIN_M", 17), forced_rows = env_int("QSPEC_WGMMA_VERIFY_ROWS", 0),
                     forced_bn = env_int("QSPEC_WGMMA_VERIFY_BN", 0),
                     bn32_max_m = env_int("QSPEC_WGMMA_VERIFY_BN32_MAX_M", 32),
                     small_grids = env_int("QSPEC_WGMMA_VERIFY_SMALL_GRIDS", 1);
    Grid gr;
    const long rows = ceil_div(N, Shape<1>::ROWS);
    // the split of the rule on a grid of c CTAs: 8 slices where it gives at most a quarter of the SMs a CTA, or half
    // of them with long slices
    auto split_of = [&](long c) {
        return 4 * c <= sm_count() || (2 * c <= sm_count() && steps / SLICES >= 8) ? SLICES : 1;
    };
    gr.bn = forced_bn == 32 || forced_bn == 64 ? forced_bn : M <= bn32_max_m ? 32 : 64;
    const long ctas64 = ceil_div(M, 64) * rows;  // the CTAs of 64-token tiles
    if (small_grids && forced_bn == 0 && bn32_max_m > 0 && gr.bn == 64 && M <= 128 && split_of(ctas64) == 1 &&
        2 * ctas64 <= sm_count())
        gr.bn = 32;  // 33-128 tokens on a small grid that does not split: twice the CTAs
    const long ctas = ceil_div(M, gr.bn) * rows;
    const bool forced =
        forced_split == 1 || forced_split == SLICES || (gr.bn == 32 && (forced_split == 2 || forced_split == 4));
    gr.split = forced ? forced_split : split_of(ctas);
    const bool small_split_pays = gr.bn == 32 && (ctas * SLICES <= sm_count() || steps / SLICES >= 8);
    if (small_grids && !forced && gr.bn == 32 && M <= 32 && !small_split_pays && 2 * ctas <= sm_count())
        gr.split = 2;  // clusters of 2 where 8 slices do not pay
    if (!all && (M < min_m || ctas * gr.split < 64 ||
                 (M <= 32 && gr.split == SLICES && !forced && !small_split_pays)))
        gr.split = 0;
    const long waves = ceil_div(ctas, sm_count()),
               waves2 = ceil_div(ceil_div(M, gr.bn) * ceil_div(N, Shape<2>::ROWS), sm_count());
    if (gr.split == 1)
        gr.tiles = forced_rows == Shape<2>::ROWS ? 2 : forced_rows == Shape<1>::ROWS ? 1 : 8 * waves2 < 5 * waves ? 2 : 1;
    return gr;
}

bool pingpong() {
    static const bool on = env_int("QSPEC_WGMMA_PINGPONG", 1) != 0;
    return on;
}

// 0: off (QSPEC_WGMMA_VERIFY=0), 1: the rule (unset), 2: every M (QSPEC_WGMMA_VERIFY=all)
int mode() {
    static const int m = w4::bulk::env_switch("QSPEC_WGMMA_VERIFY");
    return m;
}

// The tokens in the order the feeding warpgroup writes them (DIRECT): per 128-input step, MMA c = 2j + q's 16 inputs
// at halves 64 (c / 4) + 16 (c % 4) + {2t, 2t + 1} (inputs 32t + 8j + 2q and + 4) and + 8 (inputs + 1 and + 5),
// zeros past K. A thread per (token, step, t, j): the word j of quad t.
__global__ void permute_tokens_direct(const half* __restrict__ x, int ldx, int M, int K, half* __restrict__ out,
                                      int Kp) {
    const long words = (long)M * (Kp / 8);
    for (long w = blockIdx.x * (long)blockDim.x + threadIdx.x; w < words; w += (long)gridDim.x * blockDim.x) {
        const int m = (int)(w / (Kp / 8)), k8 = (int)(w % (Kp / 8)) * 8;  // inputs k8 .. k8 + 7: 32t + 8j + 0..7
        const int step = k8 / KSTEP, t = (k8 % KSTEP) / 32, j = (k8 % 32) / 8;
        uint32_t v[4];  // inputs (0, 1), (2, 3), (4, 5), (6, 7)
        if (k8 + 8 <= K && ldx % 8 == 0) {
            const uint4 u = *reinterpret_cast<const uint4*>(x + (long)m * ldx + k8);
            v[0] = u.x, v[1] = u.y, v[2] = u.z, v[3] = u.w;
        } else {
            __align__(16) half e[8];
            for (int i = 0; i < 8; ++i) e[i] = k8 + i < K ? x[(long)m * ldx + k8 + i] : __float2half(0.f);
            const uint4 u = *reinterpret_cast<const uint4*>(e);
            v[0] = u.x, v[1] = u.y, v[2] = u.z, v[3] = u.w;
        }
        half* row = out + (long)m * Kp + (long)step * KSTEP;
#pragma unroll
        for (int q = 0; q < 2; ++q) {
            const int c = 2 * j + q;
            uint32_t* at = reinterpret_cast<uint32_t*>(row + 64 * (c / 4) + 16 * (c % 4) + 2 * t);
            at[0] = __byte_perm(v[q], v[q + 2], 0x5410);  // inputs 2q, 2q + 4
            at[4] = __byte_perm(v[q], v[q + 2], 0x7632);  // inputs 2q + 1, 2q + 5 (8 halves on)
        }
    }
}

// Whether a call takes the DIRECT build (its tokens permuted into MMA order first). The rule (session 50, from session
// 49's builds measured on an H100 against the kernel as it was, docs/KERNELS.md "Tokens in MMA order"): wherever the
// kernel runs on matrices of 2048 rows or more, at 33-256 tokens (48-256 were measured; 32-token passes take other
// tiles, not timed), at up to 64 tokens only on those larger than q/o (N x K > 2^24): 5-22 % faster on q|k|v,
// gate/up, gate|up, down, lm_head, and q/o from 96 tokens. Slower: q/o at 48-64 tokens by 2 %, k/v's 1024 rows by 6-14 % (small calls, of which the permutation's
// launch is a large part).
// QSPEC_WGMMA_VERIFY_DIRECT=0 never, =1 wherever the kernel runs, =noperm as 1 without the permutation (wrong
// results: timing only).
enum Direct { DIRECT_OFF, DIRECT_ON, DIRECT_NOPERM };
Direct direct_of(int M, int N, int K) {
    static const int m = env_word("QSPEC_WGMMA_VERIFY_DIRECT", {"0", "1", "noperm"});
    switch (m) {
        case 1: return DIRECT_OFF;
        case 2: return DIRECT_ON;
        case 3: return DIRECT_NOPERM;
        default: return N >= 2048 && M > 32 && M <= 256 && (M > 64 || (long)N * K > (1L << 24)) ? DIRECT_ON : DIRECT_OFF;
    }
}

// ordered (DIRECT only): x is already in MMA order (token_order.cuh), written so by its producer: no permutation.
template <int TILES, int BN, bool DIRECT = false>
int launch_tiles(const half* x, int ldx, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K,
                 int split, bool accumulate, bool ordered, cudaStream_t st) {
    using L = Layout<TILES, BN, DIRECT>;
    const int groups = ceil_div(K, KSTEP), Kp = groups * KSTEP;
    CUtensorMap wmap, xmap, wsmap;
    bool xmap_ok;
    TokenScratch scratch(st);  // DIRECT: the tokens in MMA order, given back after the kernel
    if constexpr (DIRECT) {
        const half* xt = x;
        int ldt = ldx, Kt = K;
        if (!ordered && direct_of(M, N, K) == DIRECT_ON) {
            half* buf = static_cast<half*>(scratch.take((size_t)M * Kp * 2));
            if (buf == nullptr) return NO_TENSOR_MAP;
            const long words = (long)M * (Kp / 8);
            permute_tokens_direct<<<(int)std::min<long>(ceil_div(words, 256), 4L * sm_count()), 256, 0, st>>>(
                x, ldx, M, K, buf, Kp);
            xt = buf, ldt = Kp, Kt = Kp;
        }
        xmap_ok = swizzled_tile_map(xt, 2, Kt, M, (long long)ldt * 2, BN, &xmap);
    } else {
        xmap_ok = swizzled_tile_map(x, 2, K, M, (long long)ldx * 2, BN, &xmap);
    }
    if (!weight_step_map(wp, N, Kp / 2, L::ROWS, &wmap) || !xmap_ok ||
        !matrix_tile_map(ws, 2, groups, N, SCALE_STEPS, L::ROWS, &wsmap))
        return NO_TENSOR_MAP;
    static unsigned long long smem_allowed;
    if (const int e = allow_dynamic_smem(w4a16_wgmma_kernel<TILES, BN, 1, DIRECT>, L::bytes, smem_allowed)) return e;
    // token tiles of a row tile run together (its weights stay in L2)
    const dim3 grid(ceil_div(M, BN), ceil_div(N, L::ROWS), split);
    if constexpr (TILES == 1) {
        // a cluster of `split` CTAs along K, each taking SPC = 8 / split slices (2 or 4 only with 32-token tiles)
        auto clusters = [&](auto spc) {
            constexpr int SPC = decltype(spc)::value;
            if constexpr (SPC > 1) {  // (SPC = 1 is the kernel allowed above)
                static unsigned long long smem_split;
                if (const int e = allow_dynamic_smem(w4a16_wgmma_kernel<TILES, BN, SPC, DIRECT>, L::bytes, smem_split))
                    return e;
            }
            static signed char refused[64];  // devices that cannot run the clusters: K not split there
            return launch_in_clusters(w4a16_wgmma_kernel<TILES, BN, SPC, DIRECT>, grid, dim3(THREADS), dim3(1, 1, split),
                                      L::bytes, st, refused, wmap, xmap, wsmap, y, ldy, M, N, Kp / KSTEP, accumulate,
                                      pingpong());
        };
        int e = CLUSTERS_UNAVAILABLE;
        if (split == SLICES) e = clusters(std::integral_constant<int, 1>{});
        if constexpr (BN == 32) {
            if (split == 4) e = clusters(std::integral_constant<int, 2>{});
            if (split == 2) e = clusters(std::integral_constant<int, 4>{});
        }
        if (e != CLUSTERS_UNAVAILABLE) return e;
    }
    w4a16_wgmma_kernel<TILES, BN, 1, DIRECT><<<dim3(grid.x, grid.y), THREADS, L::bytes, st>>>(
        wmap, xmap, wsmap, y, ldy, M, N, Kp / KSTEP, accumulate, pingpong());
    return qspec_launch_status();
}

}  // namespace

bool use(const half* x, int ldx, int M, int N, int K, int group) {
    if (mode() == 0 || group != KSTEP || ceil_div(K, KSTEP) % SLICES != 0 || ldx % 8 != 0 ||
        reinterpret_cast<uintptr_t>(x) % 16 != 0 || device_major() != 9 || !w4::wgmma_built_for_device())
        return false;
    return grid_of(M, N, ceil_div(K, KSTEP), mode() == 2).split != 0;
}

bool takes_mma_order(int M, int N, int K) { return K % KSTEP == 0 && direct_of(M, N, K) == DIRECT_ON; }

int launch(const half* x, int ldx, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N, int K,
           bool accumulate, bool ordered, cudaStream_t st) {
    const int groups = ceil_div(K, KSTEP);
    const Grid gr = grid_of(M, N, groups, mode() == 2);
    if (gr.split == 0 || groups % SLICES != 0) return NO_TENSOR_MAP;  // (use() says no first)
    if (ordered && !takes_mma_order(M, N, K)) return NO_TENSOR_MAP;  // (the caller checks first)
    auto tiles = [&](auto bn) {
        constexpr int BN = decltype(bn)::value;
        if (direct_of(M, N, K) != DIRECT_OFF) {
            const int e = gr.tiles == 2
                              ? launch_tiles<2, BN, true>(x, ldx, wp, ws, y, ldy, M, N, K, gr.split, accumulate,
                                                          ordered, st)
                              : launch_tiles<1, BN, true>(x, ldx, wp, ws, y, ldy, M, N, K, gr.split, accumulate,
                                                          ordered, st);
            if (e != NO_TENSOR_MAP || ordered) return e;  // else: the kernel as it is (not for tokens in MMA order)
        }
        return gr.tiles == 2 ? launch_tiles<2, BN>(x, ldx, wp, ws, y, ldy, M, N, K, gr.split, accumulate, false, st)
                             : launch_tiles<1, BN>(x, ldx, wp, ws, y, ldy, M, N, K, gr.split, accumulate, false, st);
    };
    return gr.bn == 32 ? tiles(std::integral_constant<int, 32>{}) : tiles(std::integral_constant<int, 64>{});
}

}  // namespace w4::wgmma_verify
