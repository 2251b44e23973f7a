// The arithmetic of a register-resident RMSNorm row, in one place for the three kernels that must give its bits:
// the standalone RMSNorm (norm.cu), the RMSNorm fused with the draft's quantizer (quantize.cu), and the norm tail
// of the residual-adding bulk-copy GEMVs (NormTail below, w4_bulk.cuh), which normalises the rows the GEMV has just
// added to in the GEMV's own launch.
//
// A row of D inputs is 1024 "row threads" wide: row thread x holds float4 units x, x + 1024, ... (below D / 4) and
// sums their squares in that order; the sums are added in warps of 32 row threads (warp_sum) and the 32 warp sums
// once more in a warp. The standalone kernels run a row thread per CUDA thread; the tail's 9 warps take the 32 row
// warps in turn. Each product and sum is rounded on its own (never contracted into an FMA, whose choice nvcc makes
// per expression), so the same order gives the same bits in every kernel.
#pragma once
#include "common.cuh"
#include "token_order.cuh"

namespace rms {

constexpr int ROW_THREADS = 1024;
constexpr int ROW_WARPS = ROW_THREADS / 32;
constexpr int RMAX = 4;  // float4 units per row thread: D <= 16384
constexpr int TAIL_MAX_M = 4;  // rows a GEMV's norm tail takes (one CTA normalises them all, after the GEMV)
constexpr int TAIL_SCRATCH_BYTES = (32 * TAIL_MAX_M + 1) * 4;

// Whether the register-resident kernels take rows of D inputs at x (rows D apart) with gains w.
inline bool fits_registers(int D, const void* x, const void* w) {
    return D % 4 == 0 && D <= 4 * ROW_THREADS * RMAX && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
           reinterpret_cast<uintptr_t>(w) % 16 == 0;
}

// Whether the quantizing kernel's register-resident build takes groups of `group` inputs (group / 4 adjacent
// lanes of a warp hold a group) on rows of D inputs.
inline bool fits_register_groups(int D, int group) {
    return (group == 32 || group == 64 || group == 128) && D % group == 0;
}

// Whether a GEMV takes the norm tail: it takes at most TAIL_MAX_M tokens on sm_90, its rows (D = N) fit the
// register-resident RMSNorm, the ticket is a 4-byte aligned word. QSPEC_NORM_TAIL=0 turns it off (measurements:
// the GEMM and the standalone kernel then run one after the other; the same bits).
inline bool tail_applies(int M, int N, const float* y, const float* norm_w, const void* ticket) {
    static const int on = env_int("QSPEC_NORM_TAIL", 1);
    return on != 0 && ticket != nullptr && M <= TAIL_MAX_M && fits_registers(N, y, norm_w) &&
           reinterpret_cast<uintptr_t>(ticket) % 4 == 0 && device_major() >= 9;
}

// v.x^2 + v.y^2 + v.z^2 + v.w^2, in that order.
__device__ __forceinline__ float square_sum4(float4 v) {
    return __fadd_rn(__fadd_rn(__fadd_rn(__fmul_rn(v.x, v.x), __fmul_rn(v.y, v.y)), __fmul_rn(v.z, v.z)),
                     __fmul_rn(v.w, v.w));
}

// Adds one float4 unit's squares to a row thread's sum.
__device__ __forceinline__ float add_squares(float ss, float4 v) { return __fadd_rn(ss, square_sum4(v)); }

// 1 / rms of a row from the sum of its squares.
__device__ __forceinline__ float inverse_rms(float total, int D, float eps) { return rsqrtf(total / D + eps); }

// Unit c of the fp16 output row: v * rinv * g, rounded to fp16; in MMA order (token_order.cuh) where `order` says.
__device__ __forceinline__ void store_half4(half* row, int c, float4 v, float rinv, float4 g,
                                            int order = QSPEC_TOKENS_ROW) {
    const half2 lo = __floats2half2_rn(v.x * rinv * g.x, v.y * rinv * g.y);
    const half2 hi = __floats2half2_rn(v.z * rinv * g.z, v.w * rinv * g.w);
    if (order == QSPEC_TOKENS_ROW) {
        half2* out = reinterpret_cast<half2*>(row);
        out[2 * c] = lo;
        out[2 * c + 1] = hi;
        return;
    }
    token_order::store_half(row, 4 * c, __low2half(lo), order);
    token_order::store_half(row, 4 * c + 1, __high2half(lo), order);
    token_order::store_half(row, 4 * c + 2, __low2half(hi), order);
    token_order::store_half(row, 4 * c + 3, __high2half(hi), order);
}

// Four inputs' codes rint(a * inv) clamped to [-qmax, qmax], one byte each, input e in byte e.
__device__ __forceinline__ uint32_t pack_codes4(const float (&a)[4], float inv, float qmax) {
    uint32_t packed = 0;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
        const int q = (int)fminf(fmaxf(rintf(a[e] * inv), -qmax), qmax);
        packed |= (uint32_t)(q & 0xff) << (8 * e);
    }
    return packed;
}

// Unit c of a quantized output row (codes: the row's int8 codes, scales: its group scales): the values of
// store_half4 before rounding, quantized per group of `group` inputs (group / 4 adjacent lanes), the codes in MMA
// order (token_order.cuh) where `order` says. Called by whole warps (the shuffles), `valid` false for lanes past the row.
__device__ __forceinline__ void store_codes4(int8_t* codes, float* scales, int c, bool valid, float4 v, float rinv,
                                             float4 g, int group, float qmax, int order = QSPEC_TOKENS_ROW) {
    float a[4] = {0.f, 0.f, 0.f, 0.f};
    if (valid) {
        a[0] = v.x * rinv * g.x; a[1] = v.y * rinv * g.y;
        a[2] = v.z * rinv * g.z; a[3] = v.w * rinv * g.w;
    }
    float amax = fmaxf(fmaxf(fabsf(a[0]), fabsf(a[1])), fmaxf(fabsf(a[2]), fabsf(a[3])));
    for (int o = 1; o < group / 4; o <<= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    if (valid) {
        token_order::store_codes4(codes, 4 * c, pack_codes4(a, amax > 0.f ? qmax / amax : 0.f, qmax), order);
        if ((4 * c) % group == 0) scales[4 * c / group] = amax / qmax;
    }
}

// A row in registers (rmsnorm_reg_kernel, rmsnorm_quantize_reg_kernel: a row thread per CUDA thread of a
// 1024-thread block): thread x loads units x, x + 1024, ... of the row and of the gains, all before the block
// reduction, so a decode row costs one memory latency; returns 1 / rms.
__device__ __forceinline__ float row_registers(const float* __restrict__ x_row, const float* __restrict__ w, int D,
                                               float eps, float4 (&v)[RMAX], float4 (&g)[RMAX], float* red) {
    const float4* row = reinterpret_cast<const float4*>(x_row);
    const float4* w4 = reinterpret_cast<const float4*>(w);
    const int n4 = D / 4;
    float ss = 0.f;
#pragma unroll
    for (int i = 0; i < RMAX; ++i) {
        const int c = threadIdx.x + ROW_THREADS * i;
        if (c < n4) {
            v[i] = row[c];
            g[i] = __ldg(w4 + c);
            ss = add_squares(ss, v[i]);
        }
    }
    return inverse_rms(block_sum(ss, red), D, eps);
}

// The RMSNorm a residual-adding GEMV runs once all its CTAs have stored y (ticket == nullptr: none). out != nullptr:
// fp16 rows as qspec_rmsnorm_f16 writes them; otherwise codes and scales as qspec_rmsnorm_quantize writes them.
struct NormTail {
    unsigned* ticket;  // the CTAs' count, 0 before the launch and after it (atomicInc wraps it)
    const float* gain;
    float eps;
    half* out;
    int8_t* codes;
    float* scales;
    int group;
    float qmax;
};

// Called by every thread of each CTA of the GEMV, after its last store of y [M <= TAIL_MAX_M, D] (rows D apart): the
// CTA that takes the last ticket normalises the M rows, with the standalone kernels' order of sums. scratch:
// TAIL_SCRATCH_BYTES of shared memory no thread still needs.
template <int THREADS>
__device__ __forceinline__ void run_tail(const NormTail& tail, const float* y, int M, int D, float* scratch) {
    constexpr int WARPS = THREADS / 32;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    unsigned* last = reinterpret_cast<unsigned*>(scratch + 32 * TAIL_MAX_M);  // apart from the sums below
    __threadfence();  // this thread's stores of y, visible to the CTA that normalises
    __syncthreads();
    if (threadIdx.x == 0) {
        const unsigned ctas = gridDim.x * gridDim.y * gridDim.z;
        *last = atomicInc(tail.ticket, ctas - 1) == ctas - 1;  // the last one also sets it back to 0
    }
    __syncthreads();
    if (!*last) return;
    __threadfence();  // the other CTAs' stores, seen before the reads below
    const int n4 = D / 4;
    // the sums of squares: row warp rw of row m in scratch[32 m + rw]; y through L2 (other SMs wrote it)
    for (int m = 0; m < M; ++m) {
        const float4* row = reinterpret_cast<const float4*>(y + (long)m * D);
        for (int rw = warp; rw < ROW_WARPS; rw += WARPS) {
            float ss = 0.f;
#pragma unroll
            for (int i = 0; i < RMAX; ++i) {
                const int c = rw * 32 + lane + ROW_THREADS * i;
                if (c < n4) ss = add_squares(ss, __ldcg(row + c));
            }
            ss = warp_sum(ss);
            if (lane == 0) scratch[32 * m + rw] = ss;
        }
    }
    __syncthreads();
    const float4* w4 = reinterpret_cast<const float4*>(tail.gain);
    for (int m = 0; m < M; ++m) {
        const float rinv = inverse_rms(warp_sum(scratch[32 * m + lane]), D, tail.eps);
        const float4* row = reinterpret_cast<const float4*>(y + (long)m * D);
        for (int rw = warp; rw < ROW_WARPS; rw += WARPS) {
#pragma unroll
            for (int i = 0; i < RMAX; ++i) {
                if (ROW_THREADS * i >= n4) break;  // warp-uniform: store_codes4 shuffles
                const int c = rw * 32 + lane + ROW_THREADS * i;
                const bool valid = c < n4;
                const float4 v = valid ? __ldcg(row + c) : make_float4(0.f, 0.f, 0.f, 0.f);
                const float4 g = valid ? __ldg(w4 + c) : make_float4(0.f, 0.f, 0.f, 0.f);
                if (tail.out != nullptr) {
                    if (valid) store_half4(tail.out + (long)m * D, c, v, rinv, g);
                } else {
                    store_codes4(tail.codes + (long)m * D, tail.scales + (long)m * (D / tail.group), c, valid, v,
                                 rinv, g, tail.group, tail.qmax);
                }
            }
        }
    }
}

// The RMSNorm a bulk GEMV runs on its own input (w4_bulk.cuh, Epilogue::head): rows r [M, D] (D apart) and gains,
// normalised by every CTA into the activations it keeps in shared memory (W4A16: fp16; the draft: codes and scales
// in groups of 128), in place of the standalone kernel's launch and its trip through HBM.
struct NormHead {
    const float* rows;  // nullptr: no head
    const float* gain;
    float eps;
    float qmax;  // the draft's largest code (127 for A8, 7 for A4)
};
// Rows a GEMV normalises itself (each of its CTAs reads them all). Measured on the H100 (docs/KERNELS.md, "The norm
// head"): at M = 1-2 W4A16's GEMV with the head takes 0.4-0.9 us less than the norm kernel and the GEMV (q|k|v 9.03 ->
// 8.66 us at one token, 9.37 -> 8.51 at two), at M = 3-4 0.8-1.7 us more (the second pair of rows waits behind the
// weights). End to end at batch 1 it did not pay, so the Java runner takes these entry points only when asked.
constexpr int HEAD_MAX_M = 2;
constexpr int HEAD_ROWS = 2;   // rows whose loads are in flight together
constexpr int HEAD_MAX_D = 4 * ROW_THREADS;  // one float4 unit per row thread (the registers of HEAD_ROWS rows)
constexpr int HEAD_SCALES = 4 * HEAD_MAX_D / 128;  // the draft's group scales of up to 4 rows (QSPEC_NORM_HEAD=all)

// Whether a GEMV takes the norm head: at most HEAD_MAX_M rows of at most HEAD_MAX_D inputs that the
// register-resident RMSNorm takes, on sm_90. QSPEC_NORM_HEAD=0 turns it off (measurements: the norm kernel and the
// GEMM then run one after the other; the same bits); QSPEC_NORM_HEAD=all takes up to 4 rows (tests, measurements).
inline bool head_applies(int M, int D, const float* r, const float* gain) {
    static const int mode = [] {
        const char* v = getenv("QSPEC_NORM_HEAD");
        return v == nullptr ? 1 : strcmp(v, "all") == 0 ? 2 : atoi(v) != 0 ? 1 : 0;
    }();
    return mode != 0 && M <= (mode == 2 ? 4 : HEAD_MAX_M) && D <= HEAD_MAX_D && fits_registers(D, r, gain) &&
           device_major() >= 9;
}

// Called by the WARPS consumer warps of a CTA (named barrier 1; WARPS divides ROW_WARPS): hands unit c of row m of the
// head's RMSNorm (D <= HEAD_MAX_D) to store(m, c, valid, v, rinv, g), by whole warps (valid false for lanes past
// the row): store_half4 or store_codes4 then write what qspec_rmsnorm_f16 or qspec_rmsnorm_quantize would. The
// warps take the 32 row warps in turn as the tail does, so every sum is the standalone kernels' (whose row thread x
// holds unit x alone at these D); HEAD_ROWS rows at a time are loaded at once and held in registers between their
// sums and their stores. scratch: 32 HEAD_ROWS floats. landed(): called once by every thread, when the first rows'
// loads have landed; the GEMV then lets its weights' copies start. (Issued at once, the copies filled the memory
// system and these loads waited behind them: the head then cost what the norm kernel did. Brought in by bulk copies
// ahead of the weights, the rows and gains cost more still. docs/KERNELS.md, "The norm head".)
// Ends with the barrier, after which every row is stored.
template <int WARPS, class Store, class Landed>
__device__ __forceinline__ void run_head(const NormHead& head, int M, int D, float* scratch, Store&& store,
                                         Landed&& landed) {
    static_assert(ROW_WARPS % WARPS == 0, "the warps take the row warps in turn");
    constexpr int TURNS = ROW_WARPS / WARPS;
    auto sync = [] { asm volatile("bar.sync 1, %0;" ::"n"(WARPS * 32) : "memory"); };
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n4 = D / 4;
    const float4* w4 = reinterpret_cast<const float4*>(head.gain);
    float4 g[TURNS];  // unit c[j] of the gains, c[j] the unit of the thread's j-th row warp
    int c[TURNS];
#pragma unroll
    for (int j = 0; j < TURNS; ++j) {
        c[j] = (warp + WARPS * j) * 32 + lane;
        g[j] = c[j] < n4 ? __ldg(w4 + c[j]) : make_float4(0.f, 0.f, 0.f, 0.f);
    }
    for (int m0 = 0; m0 < M; m0 += HEAD_ROWS) {
        float4 v[HEAD_ROWS][TURNS];
#pragma unroll
        for (int h = 0; h < HEAD_ROWS; ++h) {
            // rows past M load row M - 1 again (nothing of theirs is stored); the rows are the kernel before's
            // output: through L2
            const float4* row = reinterpret_cast<const float4*>(head.rows + (long)min(m0 + h, M - 1) * D);
#pragma unroll
            for (int j = 0; j < TURNS; ++j) v[h][j] = c[j] < n4 ? __ldcg(row + c[j]) : make_float4(0.f, 0.f, 0.f, 0.f);
        }
#pragma unroll
        for (int h = 0; h < HEAD_ROWS; ++h)
#pragma unroll
            for (int j = 0; j < TURNS; ++j) {
                // a row thread past the row sums nothing (0 + 0 + 0 + 0 + 0 = 0, as the standalone kernel's 0)
                const float s = warp_sum(c[j] < n4 ? add_squares(0.f, v[h][j]) : 0.f);
                if (lane == 0) scratch[32 * h + warp + WARPS * j] = s;
            }
        if (m0 == 0) landed();
        sync();
#pragma unroll
        for (int h = 0; h < HEAD_ROWS; ++h) {
            if (m0 + h >= M) break;
            const float rinv = inverse_rms(warp_sum(scratch[32 * h + lane]), D, head.eps);
#pragma unroll
            for (int j = 0; j < TURNS; ++j) store(m0 + h, c[j], c[j] < n4, v[h][j], rinv, g[j]);
        }
        sync();  // every row's activations stored; scratch free for the next rows
    }
}

}  // namespace rms
