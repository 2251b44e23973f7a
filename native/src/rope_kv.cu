// RoPE on q and k, rows of stride ld (the fused q|k|v GEMM output); rotated q to a compact buffer,
// k and v stored as fp16 into the paged KV cache of one layer.
#include "common.cuh"

namespace {

__global__ void rope_write_kv_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                     const float* __restrict__ v, int ld, float* __restrict__ q_out,
                                     half* __restrict__ kpool, half* __restrict__ vpool,
                                     const int32_t* __restrict__ token_seq, const int32_t* __restrict__ token_pos,
                                     const int32_t* __restrict__ block_tables, int max_blocks, int block_size,
                                     int heads, int kv_heads, int hd, const float* __restrict__ inv_freq,
                                     int style) {
    const int t = blockIdx.x, pos = token_pos[t], half_hd = hd / 2;
    const int blk = block_tables[(long)token_seq[t] * max_blocks + pos / block_size];
    const long slot = ((long)blk * block_size + pos % block_size) * kv_heads * hd;
    // Rotations: heads of q then kv heads of k, half_hd pairs each, spread over the blocks of blockIdx.y
    // (a decode step has one token: one block would leave the GPU idle for the whole rotation).
    const int pairs = (heads + kv_heads) * half_hd;
    const int first = blockIdx.y * blockDim.x + threadIdx.x, stride = gridDim.y * blockDim.x;
    for (int p = first; p < pairs; p += stride) {
        const int h = p / half_hd, i = p % half_hd;
        const int d0 = style == 0 ? 2 * i : i, d1 = style == 0 ? 2 * i + 1 : i + half_hd;
        float s, c;
        sincosf((float)pos * inv_freq[i], &s, &c);
        if (h < heads) {
            const float* qh = q + (long)t * ld + (long)h * hd;
            float* qo = q_out + ((long)t * heads + h) * hd;
            const float2 r = rope_pair(qh[d0], qh[d1], c, s);
            qo[d0] = r.x;
            qo[d1] = r.y;
        } else {
            const int kh = h - heads;
            const float* kr = k + (long)t * ld + (long)kh * hd;
            const float2 r = rope_pair(kr[d0], kr[d1], c, s);
            kpool[slot + (long)kh * hd + d0] = __float2half(r.x);
            kpool[slot + (long)kh * hd + d1] = __float2half(r.y);
        }
    }
    for (int e = first; e < kv_heads * hd; e += stride)
        vpool[slot + e] = __float2half(v[(long)t * ld + e]);
}

}  // namespace

QSPEC_API int qspec_rope_write_kv(const float* q, const float* k, const float* v, int ld, float* q_out,
                                  void* k_pool_f16, void* v_pool_f16,
                                  const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                                  int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim,
                                  const float* inv_freq, int rope_style, qspec_stream_t stream) {
    if (head_dim % 2 != 0 || (rope_style != 0 && rope_style != 1)) return QSPEC_ERR_UNSUPPORTED;
    if (ld < head_dim * (heads > kv_heads ? heads : kv_heads)) return QSPEC_ERR_UNSUPPORTED;
    if (T <= 0) return 0;
    const int chunks = ceil_div((long)(heads + kv_heads) * (head_dim / 2), 128);
    rope_write_kv_kernel<<<dim3(T, chunks), 128, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
        q, k, v, ld, q_out, static_cast<half*>(k_pool_f16), static_cast<half*>(v_pool_f16), token_seq, token_pos, block_tables,
        max_blocks, block_size, heads, kv_heads, head_dim, inv_freq, rope_style);
    return qspec_launch_status();
}
