// Draft GEMM (W4A8, and W4A4 held in int8) for many tokens on sm_90a: warpgroup MMA (wgmma) on INT8
// tensor cores, both operands in shared memory, the 4-bit weights unpacked there once per CTA.
//
// A CTA computes 128 weight rows x BN tokens over the whole K, one 128-input step (one scale group,
// group == 128) at a time, with three warpgroups:
//  - warpgroup 0 feeds. One lane copies, through the tensor memory accelerator, the packed weights in
//    chunks of one or more steps (128 rows x 64 bytes a step), the tokens' int8 activations (BN rows x 128
//    bytes a step, with the 128-byte swizzle) a few steps ahead, each in its own ring (Build), and the
//    weight and activation scales of 8 steps at a time (boxes of 8 groups) into a double buffer. All 128
//    threads unpack the nibbles to int8 (u - 8, in input order) into the same swizzled K-major layout as
//    the activations, into a third ring.
//  - warpgroups 1 and 2 each multiply 64 of the rows by the BN tokens (four m64nBNk32 s8 MMAs per step,
//    int32 sums from zero), taking turns so that one folds while the other's MMAs run, and fold the
//    step's sums into fp32 with wscale[n, g] * xscale[m, g], as the other draft kernels do. int32 sums
//    are exact, so the result is the same whatever the order.
// The scales travel by tensor map rather than by loads of the unpacking threads: those threads must
// fence their shared-memory writes for the MMAs' (async) proxy each step, and the fence waits for every
// load they have in flight, which made each step last a memory latency (Nsight Compute, 2026-12-04).
// Weights are the MMA's A operand (64 rows per warpgroup), tokens its B operand, so the output
// fragment of a thread is 2 rows x BN/4 tokens.
#include "token_scratch.cuh"
#include "tensor_map.cuh"
#include "w4_bulk.cuh"  // env_switch, ring_round
#include "w4ax_wgmma.cuh"
#include "wgmma.cuh"
#include "wgmma_cta.cuh"

namespace w4::wgmma_draft {
namespace {

constexpr int ROWS = 128;     // weight rows per CTA: two multiplying warpgroups of 64
constexpr int KSTEP = 128;    // inputs per step: one 128-byte swizzled row of int8, one scale group
constexpr int THREADS = 384;  // warpgroup 0 feeds, 1 and 2 multiply
constexpr int SCALE_STEPS = 8;  // steps per scale box (16 bytes of fp16 weight scales per row: TMA's minimum)

// A build of the kernel: BN tokens per CTA, ring depths, and CTAs per SM.
//  - AS steps of unpacked weights and BS of activations, both held until the multiplying warps are done with
//    the step (BS >= AS: the activations of step s + BS - AS are copied once step s - AS is multiplied);
//  - RC chunks of CS steps of packed weights, each one copy of 128 rows x 64 CS bytes, free once unpacked.
template <int BN_, int AS_, int BS_, int CS_, int RC_, int MINB_>
struct Build {
    static constexpr int BN = BN_, AS = AS_, BS = BS_, CS = CS_, RC = RC_, MINB = MINB_;
    // the three rings walk together: one ring of steps, copied as 2-D boxes of one step
    static constexpr bool one_ring = CS == 1 && AS == BS && BS == RC;
    static_assert(BS >= AS, "activations of a step arrive no later than its unpacked weights");
    static_assert(CS == 1 || CS == 2 || CS == 4 || CS == 8, "chunks divide a CTA's steps (a multiple of 8)");
};
// Measured on the H200 (docs/KERNELS.md, session 15): 32-token tiles at M <= 32 (M = 17-31 took the warp-split
// kernel before, 1.4-1.8x slower), one CTA per SM where the grid gives each SM at most one (4 % faster than two),
// else two. At 64 and 128 tokens deeper rings and chunks of several steps were slower than these (by 5-40 %).
using Narrow1 = Build<32, 3, 4, 8, 2, 1>;  // M <= 32, at most one CTA per SM
using Narrow2 = Build<32, 2, 2, 4, 2, 2>;  // M <= 32, two CTAs per SM
using Tokens64 = Build<64, 3, 3, 1, 3, 2>;  // two CTAs per SM (105 KB each)
using Tokens128 = Build<128, 4, 4, 1, 4, 1>;  // M >= 96, one CTA per SM

// Dynamic shared memory of a CTA of build B, from a 1024-byte aligned base (the swizzle's atom).
template <class B>
struct Layout {
    static constexpr int A = ROWS * KSTEP;        // unpacked int8 weights of a step
    static constexpr int X = B::BN * KSTEP;       // int8 activations of a step
    static constexpr int RAW = ROWS * KSTEP / 2;  // packed weights of a step
    static constexpr int WS = ROWS * SCALE_STEPS * 2;    // fp16 weight scales [ROWS][SCALE_STEPS]
    static constexpr int XS = B::BN * SCALE_STEPS * 4;   // fp32 activation scales [BN][SCALE_STEPS]
    static constexpr int a_off = 0;
    static constexpr int x_off = a_off + B::AS * A;
    static constexpr int raw_off = x_off + B::BS * X;
    static constexpr int ws_off = raw_off + B::RC * B::CS * RAW;  // [2][WS]
    static constexpr int xs_off = ws_off + 2 * WS;        // [2][XS]
    static constexpr int bar_off = xs_off + 2 * XS;       // raw_full[RC], x_full[BS], a_full[AS], a_empty[AS], s_full[2]
    static constexpr size_t bytes = bar_off + (B::RC + B::BS + 2 * B::AS + 2) * 8 + 1024;  // + alignment slack
    static_assert(bytes <= 227 * 1024 && bytes * B::MINB <= 226 * 1024, "the CTAs per SM fit");
    static_assert(B::BN / 2 * 256 * 4 <= bar_off, "a K split's partial sums fit below the barriers");
};

// float(v), exact for a step's sum (|v| <= 128 * 8 * 127 < 2^24). One conversion instruction: once the
// descriptors and loop counters lived in uniform registers, it beat the magic-number pair (1.5 * 2^23 + v as
// float bits, an integer and a float addition) by 1-4 % (docs/KERNELS.md); both give the same bits.
#if defined(QSPEC_WGMMA)
__device__ __forceinline__ float int_to_float(int v) { return __int2float_rn(v); }
#endif

#if defined(QSPEC_WGMMA)
// The fold of a step: acc += the step's int32 sums d x wscale[n, g] · xscale[m, g], from the scale boxes' column of
// the step (ws: the fp16 weight scales of the CTA's rows, xs: the fp32 scales of its tokens, SCALE_STEPS apart).
template <int BN>
__device__ __forceinline__ void fold_step(float (&acc)[BN / 2], const int (&d)[BN / 2], const half* ws, const float* xs,
                                          int r0, int t) {
    const float w0 = __half2float(ws[r0 * SCALE_STEPS]), w1 = __half2float(ws[(r0 + 8) * SCALE_STEPS]);
#pragma unroll
    for (int j = 0; j < BN / 8; ++j) {
        const float x0 = xs[(8 * j + 2 * t) * SCALE_STEPS], x1 = xs[(8 * j + 2 * t + 1) * SCALE_STEPS];
        acc[4 * j + 0] = fmaf(int_to_float(d[4 * j + 0]), w0 * x0, acc[4 * j + 0]);
        acc[4 * j + 1] = fmaf(int_to_float(d[4 * j + 1]), w0 * x1, acc[4 * j + 1]);
        acc[4 * j + 2] = fmaf(int_to_float(d[4 * j + 2]), w1 * x0, acc[4 * j + 2]);
        acc[4 * j + 3] = fmaf(int_to_float(d[4 * j + 3]), w1 * x1, acc[4 * j + 3]);
    }
}

// A multiplying thread's end: its sums stored (K not split), or left in part ([BN / 2][256], free shared memory) for
// the cluster's sum once both warpgroups' MMAs are done with the operands.
template <int BN, class Store>
__device__ __forceinline__ void finish(const float (&acc)[BN / 2], float* part, Store&& store) {
    if (gridDim.z == 1) {
#pragma unroll
        for (int i = 0; i < BN / 2; ++i) store(i, acc[i]);
    } else {
        asm volatile("bar.sync 4, 256;" ::: "memory");
#pragma unroll
        for (int i = 0; i < BN / 2; ++i) part[i * 256 + threadIdx.x - 128] = acc[i];
    }
}
#endif

template <class B>
__global__ void __launch_bounds__(THREADS, B::MINB)
    w4ax_wgmma_kernel(const __grid_constant__ CUtensorMap wmap, const __grid_constant__ CUtensorMap xmap,
                      const __grid_constant__ CUtensorMap wsmap, const __grid_constant__ CUtensorMap xsmap,
                      float* __restrict__ y, int ldy, int M, int N, int steps, bool accumulate, bool pingpong) {
#if defined(QSPEC_WGMMA)
    using L = Layout<B>;
    constexpr int BN = B::BN, AS = B::AS, BS = B::BS, CS = B::CS, RC = B::RC;
    extern __shared__ uint8_t smem_base[];
    uint8_t* const sm = smem_base + ((1024 - (smem_addr(smem_base) & 1023)) & 1023);
    uint64_t* const raw_full = reinterpret_cast<uint64_t*>(sm + L::bar_off);
    uint64_t* const x_full = raw_full + RC;
    uint64_t* const a_full = x_full + BS;
    uint64_t* const a_empty = a_full + AS;  // step done: its unpacked weights and activations are free
    uint64_t* const s_full = a_empty + AS;
    const int n0 = blockIdx.y * ROWS, m0 = blockIdx.x * BN;
    // split K (gridDim.z > 1: a cluster of CTAs along z): this CTA's steps step0 .. step0 + nsteps - 1
    const int nsteps = steps / gridDim.z, step0 = blockIdx.z * nsteps;
    // the warpgroup index through a shuffle: the compiler then knows it is warp-uniform, and keeps the loop
    // counters and MMA descriptors in uniform registers (as w4a16_wgmma.cu does)
    const int wg = __shfl_sync(0xffffffffu, threadIdx.x >> 7, 0), tid = threadIdx.x & 127;

    if (threadIdx.x == 0) {
        for (int i = 0; i < RC || i < BS; ++i) {
            if (i < RC) mbar_init(&raw_full[i], 1);
            if (i < BS) mbar_init(&x_full[i], 1);
            if (i < AS) {
                mbar_init(&a_full[i], 1);
                mbar_init(&a_empty[i], 8);  // one arrival per multiplying warp
            }
        }
        mbar_init(&s_full[0], 1);
        mbar_init(&s_full[1], 1);
        fence_barrier_init();
    }
    __syncthreads();

    auto store = [&](int i, float v) { wgmma_cta::store_fragment(i, v, n0, m0, y, ldy, M, N, accumulate); };
    if (wg == 0) {
        // ---- feeding warpgroup ----
        // (s: a step of this CTA; c: a scale box of this CTA)
        auto load_x = [&](int s) {  // activations: bytes 128 (step0 + s) .. of tokens m0 ..
            const int st = s % BS;
            mbar_arrive_expect_tx(&x_full[st], L::X);
            tma_load_2d(sm + L::x_off + st * L::X, &xmap, (step0 + s) * KSTEP, m0, &x_full[st]);
        };
        auto load_scales = [&](int c) {  // scales of steps step0 + 8c .. + 7 (groups, as group == KSTEP)
            const int b = c & 1;
            mbar_arrive_expect_tx(&s_full[b], L::WS + L::XS);
            tma_load_2d(sm + L::ws_off + b * L::WS, &wsmap, step0 + c * SCALE_STEPS, n0, &s_full[b]);
            tma_load_2d(sm + L::xs_off + b * L::XS, &xsmap, step0 + c * SCALE_STEPS, m0, &s_full[b]);
        };
        // the multiplying warps are done with step `done`: refill the scale buffer of steps up to it (thread 0)
        auto refill_scales = [&](int done) {
            if (done % SCALE_STEPS == SCALE_STEPS - 1 && done + 1 + SCALE_STEPS < nsteps) load_scales(done / SCALE_STEPS + 2);
        };
        // a step's packed weights (raw) to int8 in the swizzled layout (a), 16 inputs (8 packed bytes) per task, 8
        // tasks per row, rows tid / 8 + 16 i; then the warpgroup's barrier: the unpacking is complete. All loads
        // first: the compiler may not move a load above a store to the same (shared) memory.
        auto unpack_step = [&](const uint8_t* raw, uint8_t* a) {
            constexpr int TASKS = ROWS * 8 / 128;
            uint2 v[TASKS];
#pragma unroll
            for (int i = 0; i < TASKS; ++i) {
                const int e = tid + 128 * i;
                v[i] = *reinterpret_cast<const uint2*>(raw + (e >> 3) * 64 + (e & 7) * 8);
            }
#pragma unroll
            for (int i = 0; i < TASKS; ++i) {
                const int e = tid + 128 * i, r = e >> 3, c = e & 7;
                uint32_t lo0, hi0, lo1, hi1;  // even and odd inputs of each word
                int4_to_s8x8(v[i].x, lo0, hi0);
                int4_to_s8x8(v[i].y, lo1, hi1);
                const uint4 q = make_uint4(__byte_perm(lo0, hi0, 0x5140), __byte_perm(lo0, hi0, 0x7362),
                                           __byte_perm(lo1, hi1, 0x5140), __byte_perm(lo1, hi1, 0x7362));
                *reinterpret_cast<uint4*>(a + r * KSTEP + ((c ^ (r & 7)) << 4)) = q;
            }
            wgmma::fence_shared_for_async();
            asm volatile("bar.sync 1, 128;" ::: "memory");
        };
        if constexpr (B::one_ring) {
            // One ring of steps (64 and 128 tokens): walked with compile-time stage indices (ring_round). The
            // same walk with the index computed per step, as the other builds do, was 5-9 % slower at 128 tokens.
            constexpr int ST = AS;
            auto load_raw = [&](int s) {  // packed weights: 8-byte elements 8 (step0 + s) .. + 7 of rows n0 ..
                const int st = s % ST;
                mbar_arrive_expect_tx(&raw_full[st], L::RAW);
                tma_load_2d(sm + L::raw_off + st * L::RAW, &wmap, (step0 + s) * (KSTEP / 16), n0, &raw_full[st]);
            };
            if (tid == 0) {
                prefetch_tensor_map(&wmap);
                prefetch_tensor_map(&xmap);
                for (int s = 0; s < nsteps && s < ST; ++s) {
                    load_raw(s);
                    load_x(s);
                }
                for (int c = 0; c < 2 && c * SCALE_STEPS < nsteps; ++c) load_scales(c);
            }
            for (int s0 = 0; s0 < nsteps; s0 += ST) {
                const unsigned phase = (s0 / ST) & 1;
                w4::bulk::ring_round<ST>(s0, nsteps, [&](auto st_c, int s) {
                    constexpr int st = decltype(st_c)::value;  // the stage of step s
                    if (s >= ST) {  // the multiplying warps are done with step s - ST
                        mbar_wait(&a_empty[st], phase ^ 1);
                        if (tid == 0) {
                            load_x(s);
                            refill_scales(s - ST);
                        }
                    }
                    mbar_wait(&raw_full[st], phase);
                    unpack_step(sm + L::raw_off + st * L::RAW, sm + L::a_off + st * L::A);
                    if (tid == 0) {
                        mbar_arrive(&a_full[st]);
                        if (s + ST < nsteps) load_raw(s + ST);  // raw stage st has been read by all
                    }
                });
            }
        } else {
            auto load_raw = [&](int c) {  // packed weights of chunk c: steps step0 + CS c .. + CS - 1 of rows n0 ..
                const int st = c % RC;
                mbar_arrive_expect_tx(&raw_full[st], CS * L::RAW);
                tma_load_3d(sm + L::raw_off + st * CS * L::RAW, &wmap, 0, n0, step0 + c * CS, &raw_full[st]);
            };
            if (tid == 0) {
                prefetch_tensor_map(&wmap);
                prefetch_tensor_map(&xmap);
                for (int c = 0; c * CS < nsteps && c < RC; ++c) load_raw(c);
                for (int s = 0; s < nsteps && s < BS; ++s) load_x(s);
                for (int c = 0; c < 2 && c * SCALE_STEPS < nsteps; ++c) load_scales(c);
            }
            for (int s = 0; s < nsteps; ++s) {
                const int sa = s % AS, ch = s / CS, sr = ch % RC;
                if (s >= AS) {  // the multiplying warps are done with step s - AS: its unpacked and activation stages
                    mbar_wait(&a_empty[sa], ((s / AS) - 1) & 1);
                    if (tid == 0) {
                        if (s - AS + BS < nsteps) load_x(s - AS + BS);
                        refill_scales(s - AS);
                    }
                }
                if (s % CS == 0) mbar_wait(&raw_full[sr], (ch / RC) & 1);
                unpack_step(sm + L::raw_off + (sr * CS + s % CS) * L::RAW, sm + L::a_off + sa * L::A);
                if (tid == 0) {
                    mbar_arrive(&a_full[sa]);
                    if (s % CS == CS - 1 && (ch + RC) * CS < nsteps) load_raw(ch + RC);  // chunk ch has been read by all
                }
            }
        }
    } else {
        // ---- multiplying warpgroups: rows 64 me .. 64 me + 63 ----
        const int me = wg - 1, rows0 = 64 * me, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
        const int r0 = rows0 + 16 * warp + g;  // and r0 + 8
        const uint64_t adesc = wgmma::sw128_desc(sm + L::a_off + rows0 * KSTEP);
        const uint64_t xdesc = wgmma::sw128_desc(sm + L::x_off);
        int d[BN / 2];
        float acc[BN / 2];
#pragma unroll
        for (int i = 0; i < BN / 2; ++i) acc[i] = 0.f;
        for (int s = 0; s < nsteps; ++s) {
            const int sa = s % AS, sx = s % BS, sb = (s / SCALE_STEPS) & 1, sc = s % SCALE_STEPS;
            if (sc == 0) mbar_wait(&s_full[sb], (s / (2 * SCALE_STEPS)) & 1);
            mbar_wait(&x_full[sx], (s / BS) & 1);
            mbar_wait(&a_full[sa], (s / AS) & 1);
            const uint64_t ad = adesc + (uint64_t)(sa * (L::A >> 4)), xd = xdesc + (uint64_t)(sx * (L::X >> 4));
#pragma unroll
            for (int i = 0; i < BN / 2; ++i) asm volatile("" : "+r"(d[i])::"memory");
            wgmma_cta::wait_turn(pingpong, me, s);
            __syncwarp();  // the MMAs are warp-synchronous: converge after the waits
            wgmma::fence();
#pragma unroll
            for (int k = 0; k < KSTEP / 32; ++k) wgmma::wgmma_s8<BN>(d, ad + 2 * k, xd + 2 * k, k);
            wgmma::commit();
            wgmma_cta::pass_turn(pingpong, me, s, nsteps);
            wgmma::wait<0>();
#pragma unroll
            for (int i = 0; i < BN / 2; ++i) asm volatile("" : "+r"(d[i])::"memory");
            fold_step<BN>(acc, d, reinterpret_cast<const half*>(sm + L::ws_off + sb * L::WS) + sc,
                          reinterpret_cast<const float*>(sm + L::xs_off + sb * L::XS) + sc, r0, t);
            __syncwarp();
            if (lane == 0) mbar_arrive(&a_empty[sa]);  // this warp's MMAs and scale reads of the step are done
        }
        finish<BN>(acc, reinterpret_cast<float*>(sm + L::a_off), store);
    }
    if (gridDim.z > 1)
        wgmma_cta::cluster_sum_store<BN / 2>(reinterpret_cast<float*>(sm + L::a_off), gridDim.z, wg > 0, store);
#endif
}

// ---- The weights as the A operand from registers, no unpacked tile (session 49; by rule since session 50) ----
// The multiplying threads read their two rows' 16 bytes of a step's packed weights (the verify kernel's
// unpack_rows place: inputs 32t .. 32t + 31 of rows r0, r0 + 8) and unpack each word's even and odd nibbles to
// int8 (int4_to_s8x8), without byte permutes: MMA kk takes word kk, so at k = 4t + b it multiplies input
// 32t + 8kk + 2b and at k = 16 + 4t + b input 32t + 8kk + 2b + 1. The tokens must then lie in that order
// inside each 128-input group (permute_tokens_rf writes it). The feeding warpgroup only copies: no unpacking,
// no fence for the async proxy, no hand-off; a step's shared-memory traffic drops from ~96 KB (the copies, the
// unpacked tile written and read) to ~64 KB at 128 tokens. The int32 sums are exact and the fold is the
// same, so the outputs have the bits of w4ax_wgmma_kernel. It serves grids of 64- or 128-token tiles where rf_of
// says (the tokens permuted into a TokenScratch, one kernel more per call).
// AHEAD: each step's fragments are unpacked while the MMAs of the step before run, into a second set of registers
// (128-token tiles only: 64 more registers than the two-CTA build has).
template <int BN_, int S_, int MINB_, int FEED_REGS_, int MULTIPLY_REGS_, bool AHEAD_>
struct RfBuild {
    static constexpr int BN = BN_, S = S_, MINB = MINB_, FEED_REGS = FEED_REGS_, MULTIPLY_REGS = MULTIPLY_REGS_;
    static constexpr bool AHEAD = AHEAD_;
};
// registers after setmaxnreg: 128 x 40 + 256 x 232 = 384 x 168 (one CTA per SM); 128 x 40 + 256 x 96 <= 384 x 80
using Rf64 = RfBuild<64, 6, 2, 40, 96, false>;
using Rf128 = RfBuild<128, 6, 1, 40, 232, false>;
using Rf128Ahead = RfBuild<128, 6, 1, 40, 232, true>;

template <class B>
struct RfLayout {
    static constexpr int X = B::BN * KSTEP;       // int8 tokens of a step, permuted, 128-byte swizzle
    static constexpr int RAW = ROWS * KSTEP / 2;  // packed weights of a step
    static constexpr int STAGE = X + RAW;         // a multiple of 1024: each stage's tokens on a swizzle atom
    static constexpr int WS = ROWS * SCALE_STEPS * 2, XS = B::BN * SCALE_STEPS * 4;
    static constexpr int ws_off = B::S * STAGE, xs_off = ws_off + 2 * WS, bar_off = xs_off + 2 * XS;
    // full[S], empty[S], s_full[2], s_empty[2]
    static constexpr size_t bytes = bar_off + (2 * B::S + 4) * 8 + 1024;
    static_assert(STAGE % 1024 == 0, "swizzle atoms");
    static_assert(bytes <= 227 * 1024 && bytes * B::MINB <= 226 * 1024, "the CTAs per SM fit");
    static_assert(B::BN / 2 * 256 * 4 <= bar_off, "a K split's partial sums fit below the barriers");
};

template <class B>
__global__ void __launch_bounds__(THREADS, B::MINB)
    w4ax_wgmma_rf_kernel(const __grid_constant__ CUtensorMap wmap, const __grid_constant__ CUtensorMap xmap,
                         const __grid_constant__ CUtensorMap wsmap, const __grid_constant__ CUtensorMap xsmap,
                         float* __restrict__ y, int ldy, int M, int N, int steps, bool accumulate, bool pingpong) {
#if defined(QSPEC_WGMMA)
    using L = RfLayout<B>;
    constexpr int BN = B::BN, S = B::S;
    extern __shared__ uint8_t smem_base[];
    uint8_t* const sm = smem_base + ((1024 - (smem_addr(smem_base) & 1023)) & 1023);
    uint64_t* const full = reinterpret_cast<uint64_t*>(sm + L::bar_off);
    uint64_t* const empty = full + S;
    uint64_t* const s_full = empty + S;
    uint64_t* const s_empty = s_full + 2;
    const int n0 = blockIdx.y * ROWS, m0 = blockIdx.x * BN;
    const int nsteps = steps / gridDim.z, step0 = blockIdx.z * nsteps;
    const int wg = __shfl_sync(0xffffffffu, threadIdx.x >> 7, 0), tid = threadIdx.x & 127;
    if (threadIdx.x == 0) {
        for (int i = 0; i < S; ++i) {
            mbar_init(&full[i], 1);
            mbar_init(&empty[i], 8);  // one arrival per multiplying warp: its MMAs and loads of the stage are done
        }
        for (int b = 0; b < 2; ++b) {
            mbar_init(&s_full[b], 1);
            mbar_init(&s_empty[b], 8);  // the multiplying warps have folded the box's last step
        }
        fence_barrier_init();
    }
    __syncthreads();

    auto store = [&](int i, float v) { wgmma_cta::store_fragment(i, v, n0, m0, y, ldy, M, N, accumulate); };
    if (wg == 0) {
        // ---- feeding warpgroup: one lane copies ----
        asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(B::FEED_REGS));
        if (tid == 0) {
            prefetch_tensor_map(&wmap);
            prefetch_tensor_map(&xmap);
            for (int s = 0; s < nsteps; ++s) {
                if (s % SCALE_STEPS == 0) {  // the scale box of steps s .. s + 7
                    const int c = s / SCALE_STEPS, b = c & 1;
                    if (c >= 2) mbar_wait(&s_empty[b], ((c / 2) - 1) & 1);
                    mbar_arrive_expect_tx(&s_full[b], L::WS + L::XS);
                    tma_load_2d(sm + L::ws_off + b * L::WS, &wsmap, step0 + s, n0, &s_full[b]);
                    tma_load_2d(sm + L::xs_off + b * L::XS, &xsmap, step0 + s, m0, &s_full[b]);
                }
                const int st = s % S;
                if (s >= S) mbar_wait(&empty[st], ((s / S) - 1) & 1);
                mbar_arrive_expect_tx(&full[st], L::STAGE);
                tma_load_2d(sm + st * L::STAGE, &xmap, (step0 + s) * KSTEP, m0, &full[st]);
                tma_load_2d(sm + st * L::STAGE + L::X, &wmap, (step0 + s) * (KSTEP / 16), n0, &full[st]);
            }
        }
    } else {
        // ---- multiplying warpgroups: rows 64 me .. 64 me + 63 ----
        asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(B::MULTIPLY_REGS));
        const int me = wg - 1, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
        const int r0 = 64 * me + 16 * warp + g;  // and r0 + 8
        const uint64_t xdesc = wgmma::sw128_desc(sm);
        int d[BN / 2];
        float acc[BN / 2];
#pragma unroll
        for (int i = 0; i < BN / 2; ++i) acc[i] = 0.f;
        // step s's A fragments (rows r0, r0 + 8; MMA kk from word kk), once its stage has landed
        auto unpack = [&](int s, uint32_t(&a)[4][4]) {
            mbar_wait(&full[s % S], (s / S) & 1);
            const uint8_t* raw = sm + (s % S) * L::STAGE + L::X;
            const uint4 wl = *reinterpret_cast<const uint4*>(raw + r0 * 64 + 16 * t);
            const uint4 wh = *reinterpret_cast<const uint4*>(raw + (r0 + 8) * 64 + 16 * t);
#pragma unroll
            for (int kk = 0; kk < 4; ++kk) {
                int4_to_s8x8(kk == 0 ? wl.x : kk == 1 ? wl.y : kk == 2 ? wl.z : wl.w, a[kk][0], a[kk][2]);
                int4_to_s8x8(kk == 0 ? wh.x : kk == 1 ? wh.y : kk == 2 ? wh.z : wh.w, a[kk][1], a[kk][3]);
            }
            // finished here, not after the turn's barrier
#pragma unroll
            for (int kk = 0; kk < 4; ++kk) asm volatile("" : "+r"(a[kk][0]), "+r"(a[kk][1]), "+r"(a[kk][2]), "+r"(a[kk][3]));
        };
        // step s from the fragments a (unpacked already where B::AHEAD; then step s + 1's go to next while the MMAs
        // run, as the verify kernel does)
        auto step = [&](int s, uint32_t(&a)[4][4], uint32_t(&next)[4][4]) {
            const int st = s % S, sb = (s / SCALE_STEPS) & 1, sc = s % SCALE_STEPS;
            if (sc == 0) mbar_wait(&s_full[sb], (s / (2 * SCALE_STEPS)) & 1);
            if (!B::AHEAD) unpack(s, a);
#pragma unroll
            for (int i = 0; i < BN / 2; ++i) asm volatile("" : "+r"(d[i])::"memory");
            const uint64_t xd = xdesc + (uint64_t)(st * (L::STAGE >> 4));
            wgmma_cta::wait_turn(pingpong, me, s);
            __syncwarp();
            wgmma::fence();
#pragma unroll
            for (int kk = 0; kk < 4; ++kk) wgmma::wgmma_s8_rs<BN>(d, a[kk], xd + 2 * kk, kk);
            wgmma::commit();
            wgmma_cta::pass_turn(pingpong, me, s, nsteps);
            if (B::AHEAD && s + 1 < nsteps) unpack(s + 1, next);
            wgmma::wait<0>();
#pragma unroll
            for (int i = 0; i < BN / 2; ++i) asm volatile("" : "+r"(d[i])::"memory");
            __syncwarp();
            if (lane == 0) mbar_arrive(&empty[st]);  // the stage's weights and tokens are read
            fold_step<BN>(acc, d, reinterpret_cast<const half*>(sm + L::ws_off + sb * L::WS) + sc,
                          reinterpret_cast<const float*>(sm + L::xs_off + sb * L::XS) + sc, r0, t);
            if (sc == SCALE_STEPS - 1) {
                __syncwarp();
                if (lane == 0) mbar_arrive(&s_empty[sb]);  // the box's scales are read
            }
        };
        uint32_t a0[4][4], a1[4][4];
        if (B::AHEAD) unpack(0, a0);
        for (int s = 0; s < nsteps; s += 2) {  // (a multiple of 8 steps) the fragments alternate between a0 and a1
            step(s, a0, a1);
            step(s + 1, a1, a0);
        }
        finish<BN>(acc, reinterpret_cast<float*>(sm), store);  // (partial sums over the stages: every copy has landed)
    }
    if (gridDim.z > 1) wgmma_cta::cluster_sum_store<BN / 2>(reinterpret_cast<float*>(sm), gridDim.z, wg > 0, store);
#endif
}

// The tokens in the order the weights-in-registers kernel multiplies them, per 128-input group: the 8 inputs
// 32t + 8kk .. + 7 go, even ones to bytes 32kk + 4t .. + 3 and odd ones to 32kk + 16 + 4t .. + 3.
__global__ void permute_tokens_rf(const int8_t* __restrict__ x, int8_t* __restrict__ out, long chunks) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < chunks; i += (long)gridDim.x * blockDim.x) {
        const uint2 v = reinterpret_cast<const uint2*>(x)[i];
        const long at = 8 * i, group = at & ~127L;
        const int within = (int)(at & 127), t = within >> 5, kk = (within >> 3) & 3;
        uint32_t* o = reinterpret_cast<uint32_t*>(out + group + 32 * kk + 4 * t);
        o[0] = __byte_perm(v.x, v.y, 0x6420);
        o[4] = __byte_perm(v.x, v.y, 0x7531);
    }
}

// The grid of a call: token-tile width (32, 64 or 128; 0 where the other draft kernels are faster) and the
// CTAs that split K (a cluster along z). Measured on the H200 (docs/KERNELS.md) and the H100 (session 24):
// - 128-token tiles (twice the MMA work per unpacked weight; one CTA per SM) win once M >= 96 and they
//   still give at least half the SMs a CTA, or (long K) fill the GPU split in two with 32 steps or more a CTA
//   and waste at most a quarter of a tile (down at M = 256: 71.2 -> 61.3 us on the H100; q/o, 16 steps a CTA,
//   lost: 24.0 -> 26.0); 32 at M <= 32; otherwise 64 (two CTAs per SM).
// - From M = 33, K is split across up to 8 CTAs (each a multiple of 8 steps, the scale boxes) while the
//   grid still fits on the GPU at once: a small grid (k/v, or q/o and down at M = 64) otherwise leaves
//   most SMs idle for the whole K. A small grid takes the fewest CTAs that give 90 % of the SMs one (q/o at
//   M = 128: split in 2, 18.8 us, where 4, two CTAs per SM, took 25.2; at M = 64 in 4, 16.3 against 18.8 in 2;
//   down at M = 64 in 7, 27 against 47 in 2), else the most that fit. A grid that already gives most SMs a CTA
//   is split only if each CTA keeps 32 steps or more (the split lost on q/o at M = 256 and gate/up at M = 64,
//   16 steps each, and won on down at M = 256, 56 steps). Past 32 tokens the warp-split kernel runs a second
//   block of 32 tokens, reading the weights again (q/o at M = 40: 16.4 split against 21.7 us). At M = 32 K is
//   split only when long, 64 steps or more (down: 27.5 against 39.3; q/o, 32 steps: 16.3 against 13.0).
// - The kernel runs where that gives at least 64 CTAs and M >= 17 (M >= 32 before session 15: at M = 24 on
//   32-token tiles gate/up took 24.3 against the warp-split kernel's 34.1 us, lm_head 148 against 266);
//   elsewhere the bulk-copy (M <= 16) and warp-split kernels win.
// QSPEC_WGMMA_BN=32|64|128 and QSPEC_WGMMA_SPLIT=1..8 force a width and a split wherever the kernel runs,
// QSPEC_WGMMA_DRAFT_MIN_M the fewest tokens, and QSPEC_WGMMA_DRAFT=all runs it everywhere (measurements, tests);
// QSPEC_WGMMA_DRAFT_GRID=0 takes the rule before session 24 (the most splits that fit; 128-token tiles only where
// they give half the SMs a CTA unsplit).
struct Grid {
    int bn = 0, split = 1;
    bool one_per_sm = false;  // 32-token tiles: the grid gives each SM at most one CTA
};
Grid grid_of(int M, int N, int steps, bool all) {
    static const int forced_bn = env_int("QSPEC_WGMMA_BN", 0), forced_split = env_int("QSPEC_WGMMA_SPLIT", 0),
                     min_m = env_int("QSPEC_WGMMA_DRAFT_MIN_M", 17), rule = env_int("QSPEC_WGMMA_DRAFT_GRID", 1);
    const long rows = ceil_div(N, ROWS), sms = sm_count();
    auto fits = [&](int z) { return z <= 8 && steps % (SCALE_STEPS * z) == 0; };
    auto fills = [&](long ctas) { return 10 * ctas >= 9 * sms; };  // 90 % of the SMs get a CTA
    const long tiles128 = ceil_div(M, 128);
    const bool wide = 2 * tiles128 * rows >= sms ||
                      (rule != 0 && fits(2) && steps / 2 >= 32 && fills(2 * tiles128 * rows) && 4 * M > 3 * 128 * tiles128);
    Grid gr;
    gr.bn = forced_bn == 32 || forced_bn == 64 || forced_bn == 128 ? forced_bn
            : M >= 96 && wide ? 128
            : M <= 32         ? 32
                              : 64;
    const long ctas = ceil_div(M, gr.bn) * rows, slots = sms * (gr.bn == 128 ? 1 : 2);
    if (forced_split >= 1 && fits(forced_split)) {
        gr.split = forced_split;
    } else if (M > 32 || steps >= 64) {
        for (int z = 2; z <= 8; ++z) {
            if (!fits(z) || ctas * z > slots || !(2 * ctas <= sms || steps / z >= 32)) continue;
            gr.split = z;
            if (rule != 0 && 2 * ctas <= sms && fills(ctas * z)) break;  // a small grid: the fewest that fill the SMs
        }
    }
    gr.one_per_sm = ctas * gr.split <= sms;
    if (!all && (M < min_m || ctas * gr.split < 64)) gr.bn = 0;
    return gr;
}

// Whether the multiplying warpgroups take turns (QSPEC_WGMMA_PINGPONG=0: both issue as soon as the step is
// staged). Either gives the same sums.
bool pingpong() {
    static const bool on = env_int("QSPEC_WGMMA_PINGPONG", 1) != 0;
    return on;
}

// A launch of either kernel (a build's instance) on its grid: token tiles of a row tile run together (its weights stay in
// L2); split > 1 in clusters along z, or unsplit where the device refuses them (`refused`: the kernel's devices).
template <class Kernel>
int launch_grid(Kernel kernel, size_t bytes, int bn, signed char (&refused)[64], const CUtensorMap& wmap,
                const CUtensorMap& xmap, const CUtensorMap& wsmap, const CUtensorMap& xsmap, float* y, int ldy, int M,
                int N, int steps, int split, bool accumulate, cudaStream_t st) {
    const dim3 grid(ceil_div(M, bn), ceil_div(N, ROWS), split);
    if (split > 1) {
        const int e = launch_in_clusters(kernel, grid, dim3(THREADS), dim3(1, 1, split), bytes, st, refused, wmap,
                                         xmap, wsmap, xsmap, y, ldy, M, N, steps, accumulate, pingpong());
        if (e != CLUSTERS_UNAVAILABLE) return e;
    }
    kernel<<<dim3(grid.x, grid.y), THREADS, bytes, st>>>(wmap, xmap, wsmap, xsmap, y, ldy, M, N, steps, accumulate,
                                                         pingpong());
    return qspec_launch_status();
}

template <class B>
int launch_build(const int8_t* xq, const float* xs, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N,
                 int K, int split, bool accumulate, cudaStream_t st) {
    constexpr int BN = B::BN;
    const int groups = (K + KSTEP - 1) / KSTEP, Kp = groups * KSTEP;
    CUtensorMap wmap, xmap, wsmap, xsmap;
    const bool wmap_ok = B::one_ring ? weight_step_map(wp, N, Kp / 2, ROWS, &wmap)
                                     : weight_chunk_map(wp, N, Kp / 2, ROWS, B::CS, &wmap);
    if (!wmap_ok || !activation_tile_map(xq, M, Kp, BN, &xmap) ||
        !matrix_tile_map(ws, 2, groups, N, SCALE_STEPS, ROWS, &wsmap) ||
        !matrix_tile_map(xs, 4, groups, M, SCALE_STEPS, BN, &xsmap))
        return NO_TENSOR_MAP;
    static unsigned long long smem_allowed;
    using L = Layout<B>;
    auto kernel = w4ax_wgmma_kernel<B>;
    if (const int e = allow_dynamic_smem(kernel, L::bytes, smem_allowed)) return e;
    static signed char refused[64];  // devices that cannot run the clusters: K not split there
    return launch_grid(kernel, L::bytes, BN, refused, wmap, xmap, wsmap, xsmap, y, ldy, M, N, Kp / KSTEP, split,
                       accumulate, st);
}

// Which build a call with 64- or 128-token tiles takes. The rule (session 50, from session 49's builds measured on
// an H100 against the kernel as it was, docs/KERNELS.md "Weights from registers"): the weights from registers, a step
// unpacked ahead at 128 tokens, up to 256 tokens (the sizes measured) on matrices of 2048 rows or more, at up to 64
// tokens only on the large ones (N x K >= 2^25: gate/up, gate|up, down, lm_head): 4-20 % faster there; q/o and q|k|v
// at 64 tokens 2-3 % slower, k/v (1024 rows, a small call of which the permutation's launch is a large part) up to
// 4 % slower. A step unpacked ahead ran as fast as the plain walk or faster, except gate/up at 256 tokens (3.6 %
// slower), and took down at 256 tokens from 6 % slower than the kernel as it was to 6 % faster.
// QSPEC_WGMMA_DRAFT_RF=0 never, =1 wherever it applies (not ahead), =ahead wherever it applies, =noperm as 1 without the
// tokens' permutation (wrong results: timing only).
enum Rf { RF_OFF, RF_ON, RF_AHEAD, RF_NOPERM };
Rf rf_of(int M, int N, int K) {
    static const int m = env_word("QSPEC_WGMMA_DRAFT_RF", {"0", "1", "ahead", "noperm"});
    switch (m) {
        case 1: return RF_OFF;
        case 2: return RF_ON;
        case 3: return RF_AHEAD;
        case 4: return RF_NOPERM;
        default: return N >= 2048 && M <= 256 && (M > 64 || (long)N * K >= (1L << 25)) ? RF_AHEAD : RF_OFF;
    }
}

// ordered: xq is already in MMA order (token_order.cuh), written so by its producer: no permutation.
template <class B>
int launch_rf_build(const int8_t* xq, const float* xs, const uint8_t* wp, const half* ws, float* y, int ldy, int M,
                    int N, int K, int split, bool accumulate, bool ordered, cudaStream_t st) {
    constexpr int BN = B::BN;
    const int groups = (K + KSTEP - 1) / KSTEP, Kp = groups * KSTEP;
    const int8_t* xt = xq;
    TokenScratch scratch(st);  // the tokens in the weights' order, given back after the kernel
    if (!ordered && rf_of(M, N, K) != RF_NOPERM) {
        int8_t* buf = static_cast<int8_t*>(scratch.take((size_t)M * Kp));
        if (buf == nullptr) return NO_TENSOR_MAP;
        const long chunks = (long)M * Kp / 8;
        permute_tokens_rf<<<(int)std::min<long>(ceil_div(chunks, 256), 4L * sm_count()), 256, 0, st>>>(xq, buf, chunks);
        xt = buf;
    }
    CUtensorMap wmap, xmap, wsmap, xsmap;
    if (!weight_step_map(wp, N, Kp / 2, ROWS, &wmap) || !activation_tile_map(xt, M, Kp, BN, &xmap) ||
        !matrix_tile_map(ws, 2, groups, N, SCALE_STEPS, ROWS, &wsmap) ||
        !matrix_tile_map(xs, 4, groups, M, SCALE_STEPS, BN, &xsmap))
        return NO_TENSOR_MAP;
    static unsigned long long smem_allowed;
    using L = RfLayout<B>;
    auto kernel = w4ax_wgmma_rf_kernel<B>;
    if (const int e = allow_dynamic_smem(kernel, L::bytes, smem_allowed)) return e;
    static signed char refused[64];
    return launch_grid(kernel, L::bytes, BN, refused, wmap, xmap, wsmap, xsmap, y, ldy, M, N, Kp / KSTEP, split,
                       accumulate, st);
}

// 0: off (QSPEC_WGMMA_DRAFT=0), 1: the rule (unset), 2: every M (QSPEC_WGMMA_DRAFT=all)
int mode() {
    static const int m = w4::bulk::env_switch("QSPEC_WGMMA_DRAFT");
    return m;
}

// Never launched: its static shared memory (1 KB where the device code was built for sm_90a, none
// otherwise) tells the host whether this library's binary for the device has the warpgroup kernel. A
// build for sm_90 without the "a" features compiles the kernel empty, and must not route to it.
__global__ void wgmma_probe(int* out) {
#if defined(QSPEC_WGMMA)
    __shared__ int mark[256];
    mark[threadIdx.x & 255] = (int)threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = mark[255 - (threadIdx.x & 255)];
#else
    (void)out;
#endif
}

}  // namespace

bool use(int M, int N, int K, int group) {
    if (mode() == 0 || group != KSTEP || ceil_div(K, KSTEP) % SCALE_STEPS != 0 || device_major() != 9 ||
        !w4::wgmma_built_for_device())
        return false;
    return grid_of(M, N, ceil_div(K, KSTEP), mode() == 2).bn != 0;
}

bool takes_mma_order(int M, int N, int K, int group) {
    if (group != KSTEP || K % KSTEP != 0) return false;
    const Rf rf = rf_of(M, N, K);
    return (rf == RF_ON || rf == RF_AHEAD) && grid_of(M, N, K / KSTEP, mode() == 2).bn >= 64;
}

int launch(const int8_t* xq, const float* xs, const uint8_t* wp, const half* ws, float* y, int ldy, int M, int N,
           int K, int group, bool accumulate, bool ordered, cudaStream_t st) {
    const Grid gr = group == KSTEP ? grid_of(M, N, ceil_div(K, KSTEP), mode() == 2) : Grid{};
    if (gr.bn == 0) return NO_TENSOR_MAP;  // (use() says no first)
    if (ordered && !takes_mma_order(M, N, K, group)) return NO_TENSOR_MAP;  // (the caller checks first)
    const Rf rf = rf_of(M, N, K);
    if (rf != RF_OFF && gr.bn >= 64) {
        const int e =
            gr.bn == 64      ? launch_rf_build<Rf64>(xq, xs, wp, ws, y, ldy, M, N, K, gr.split, accumulate, ordered,
                                                     st)
            : rf == RF_AHEAD ? launch_rf_build<Rf128Ahead>(xq, xs, wp, ws, y, ldy, M, N, K, gr.split, accumulate,
                                                           ordered, st)
                             : launch_rf_build<Rf128>(xq, xs, wp, ws, y, ldy, M, N, K, gr.split, accumulate, ordered,
                                                      st);
        if (e != NO_TENSOR_MAP || ordered) return e;  // else: the kernel above (not for tokens in MMA order)
    }
    switch (gr.bn) {
        case 32: return gr.one_per_sm ? launch_build<Narrow1>(xq, xs, wp, ws, y, ldy, M, N, K, gr.split, accumulate, st)
                                      : launch_build<Narrow2>(xq, xs, wp, ws, y, ldy, M, N, K, gr.split, accumulate, st);
        case 64: return launch_build<Tokens64>(xq, xs, wp, ws, y, ldy, M, N, K, gr.split, accumulate, st);
        default: return launch_build<Tokens128>(xq, xs, wp, ws, y, ldy, M, N, K, gr.split, accumulate, st);
    }
}

}  // namespace w4::wgmma_draft

bool w4::wgmma_built_for_device() {
    static signed char built_of[64] = {0};  // 0 = not asked yet, 1 = yes, -1 = no
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) {
        (void)cudaGetLastError();
        return false;
    }
    if (built_of[dev] == 0) {
        cudaFuncAttributes a;
        const bool yes = cudaFuncGetAttributes(&a, w4::wgmma_draft::wgmma_probe) == cudaSuccess && a.sharedSizeBytes >= 1024;
        (void)cudaGetLastError();
        built_of[dev] = yes ? 1 : -1;
    }
    return built_of[dev] == 1;
}
