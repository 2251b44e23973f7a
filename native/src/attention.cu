// Causal attention over the paged fp16 KV cache, one block per (query token, head); works for decode
// (one query per sequence) and verify (several queries of one sequence) alike, since every token
// carries its own sequence and position. GQA: head h reads kv head h / (heads / kv_heads).
// The warps take chunks of 8 positions in turn: 4 lanes score one position (each a quarter of the
// 16-byte K chunks, then two shuffles), the warp keeps an online softmax in fp32, and V is
// accumulated with lanes owning dims (coalesced rows). Every load of a chunk is independent, so a
// chunk costs about one memory latency for K and one for V: decode is latency-bound here (a short
// context gives each block only a few chunks). The warps' partial (max, sum, acc) are merged at the end.
#include "common.cuh"

namespace {

constexpr int WARPS = 4, MAX_HD = 128, DPL = MAX_HD / 32;  // dims per lane

__global__ void __launch_bounds__(WARPS * 32) attention_kernel(
    const float* __restrict__ q, const half* __restrict__ kpool, const half* __restrict__ vpool,
    const int32_t* __restrict__ token_seq, const int32_t* __restrict__ token_pos,
    const int32_t* __restrict__ block_tables, int max_blocks, int block_size, int heads, int kv_heads, int hd,
    half* __restrict__ out) {
    __shared__ float qs[MAX_HD];
    __shared__ float wm[WARPS], wl[WARPS], wacc[WARPS][MAX_HD];
    const int t = blockIdx.x, h = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int kvh = h / (heads / kv_heads), npos = token_pos[t] + 1;
    const int32_t* table = block_tables + (long)token_seq[t] * max_blocks;
    const float scale = rsqrtf((float)hd);
    for (int d = threadIdx.x; d < hd; d += blockDim.x) qs[d] = q[((long)t * heads + h) * hd + d] * scale;
    __syncthreads();

    float m = -INFINITY, l = 0.f, acc[DPL];
#pragma unroll
    for (int i = 0; i < DPL; ++i) acc[i] = 0.f;
    constexpr int CHUNK = 8;  // positions per warp turn: 4 lanes each
    const int pp = lane >> 2, qq = lane & 3;
    for (int base = warp * CHUNK; base < npos; base += WARPS * CHUNK) {
        const int p = base + pp;
        long off = 0;  // element offset of (p, kvh) in the pools
        float s = -INFINITY;
        if (p < npos) {
            off = (((long)table[p / block_size] * block_size + p % block_size) * kv_heads + kvh) * hd;
            const uint4* kr = reinterpret_cast<const uint4*>(kpool + off);
            uint4 u[MAX_HD / 32];
#pragma unroll
            for (int c = 0; c < MAX_HD / 32; ++c)
                if (qq + 4 * c < hd / 8) u[c] = __ldg(kr + qq + 4 * c);
            s = 0.f;
#pragma unroll
            for (int c = 0; c < MAX_HD / 32; ++c) {
                if (qq + 4 * c >= hd / 8) break;
                const half2* h2 = reinterpret_cast<const half2*>(&u[c]);
                const float* qc = qs + 8 * (qq + 4 * c);
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const float2 f = __half22float2(h2[e]);
                    s += f.x * qc[2 * e] + f.y * qc[2 * e + 1];
                }
            }
        }
        s += __shfl_xor_sync(0xffffffffu, s, 1);  // the position's 4 quarters (-inf stays -inf)
        s += __shfl_xor_sync(0xffffffffu, s, 2);
        const float mnew = fmaxf(m, warp_max(s));
        const float corr = __expf(m - mnew), pr = p < npos ? __expf(s - mnew) : 0.f;
        l = l * corr + warp_sum(pr) * 0.25f;  // each position's weight is held by 4 lanes
        m = mnew;
#pragma unroll
        for (int i = 0; i < DPL; ++i) acc[i] *= corr;
        const int valid = min(CHUNK, npos - base);
#pragma unroll
        for (int j = 0; j < CHUNK; ++j) {
            if (j >= valid) break;
            const float pj = __shfl_sync(0xffffffffu, pr, 4 * j);
            const long oj = __shfl_sync(0xffffffffu, off, 4 * j);
#pragma unroll
            for (int i = 0; i < DPL; ++i) {
                const int d = lane + 32 * i;
                if (d < hd) acc[i] += pj * __half2float(vpool[oj + d]);
            }
        }
    }
    if (lane == 0) { wm[warp] = m; wl[warp] = l; }
#pragma unroll
    for (int i = 0; i < DPL; ++i)
        if (lane + 32 * i < hd) wacc[warp][lane + 32 * i] = acc[i];
    __syncthreads();
    float gm = -INFINITY;
    for (int w = 0; w < WARPS; ++w) gm = fmaxf(gm, wm[w]);
    float denom = 0.f;
    for (int w = 0; w < WARPS; ++w) denom += wl[w] * __expf(wm[w] - gm);  // idle warps: exp(-inf) = 0
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float num = 0.f;
        for (int w = 0; w < WARPS; ++w) num += wacc[w][d] * __expf(wm[w] - gm);
        out[((long)t * heads + h) * hd + d] = __float2half(num / denom);
    }
}

}  // namespace

QSPEC_API int qspec_attention(const float* q, const void* k_pool_f16, const void* v_pool_f16,
                              const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                              int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim,
                              void* out_f16, qspec_stream_t stream) {
    if (head_dim <= 0 || head_dim > MAX_HD || head_dim % 8 != 0 || kv_heads <= 0 || heads % kv_heads != 0)
        return QSPEC_ERR_UNSUPPORTED;
    if (T <= 0) return 0;
    attention_kernel<<<dim3(T, heads), WARPS * 32, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        q, static_cast<const half*>(k_pool_f16), static_cast<const half*>(v_pool_f16), token_seq, token_pos,
        block_tables, max_blocks, block_size, heads, kv_heads, head_dim, static_cast<half*>(out_f16));
    return qspec_launch_status();
}
