/*
 * Scalar host implementations of every function of native/include/qspec_cuda.h, paired with
 * emulated_cudart.c to run qspec-cuda's forward pass without a GPU. They follow the header's
 * semantics (fp16 storage points, per-token-per-group activation quantization with
 * scale = max|x| / qmax, paged KV cache) in the simplest possible loops. Test-only: never shipped.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "qspec_cuda.h" /* so that every definition below is checked against the ABI's declaration */

typedef _Float16 half;
#define ERR_UNSUPPORTED QSPEC_ERR_UNSUPPORTED

static int groups_of(int k, int group) { return (k + group - 1) / group; }

static float weight(const uint8_t* packed, const half* scales, int n, int k, int kp, int group) {
    int b = packed[(long)n * (kp / 2) + k / 2];
    int q = ((k & 1) ? (b >> 4) : (b & 15)) - 8;
    return (float)scales[(long)n * (kp / group) + k / group] * (float)q;
}

int qspec_abi_version(void) { return QSPEC_ABI_VERSION; }

/* Token orders (ABI 13). The emulation's own MMA order reverses each 128-input step, and its GEMMs read that order
 * where K is a multiple of 128, N > K and M >= 2 (so that a pass mixes orders: q|k|v, gate|up and the output projection
 * in MMA order, o and down in row order for the test models): a runner that hands a GEMM rows in another order than
 * the one qspec_tokens_order named gets wrong sums, or the refusal the library gives. */
static long at(int order, int k) { return order == QSPEC_TOKENS_MMA ? (k & ~127) + 127 - (k & 127) : k; }

static int writable(int order, int K) {
    return order == QSPEC_TOKENS_ROW || (order == QSPEC_TOKENS_MMA && K % 128 == 0);
}

int qspec_tokens_order(int bits, int M, int N, int K, int group) {
    (void)bits, (void)group;
    return K % 128 == 0 && N > K && M >= 2 ? QSPEC_TOKENS_MMA : QSPEC_TOKENS_ROW;
}

static int readable(int order, int bits, int M, int N, int K, int group) {
    return order == QSPEC_TOKENS_ROW || (order == QSPEC_TOKENS_MMA && qspec_tokens_order(bits, M, N, K, group) == order);
}

int qspec_w4a16_gemm(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16, float* y,
                     int ldy, int M, int N, int K, int group, int accumulate, int x_order, qspec_stream_t stream) {
    (void)stream;
    if (group <= 0 || group % 32 || !readable(x_order, 16, M, N, K, group)) return ERR_UNSUPPORTED;
    const half* x = x_f16;
    int kp = groups_of(K, group) * group;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float acc = 0;
            for (int k = 0; k < K; k++)
                acc += (float)x[(long)m * ldx + at(x_order, k)] * weight(w_packed, w_scales_f16, n, k, kp, group);
            y[(long)m * ldy + n] = accumulate ? y[(long)m * ldy + n] + acc : acc;
        }
    return 0;
}

int qspec_dequantize_int4(const uint8_t* w_packed, const void* w_scales_f16, int N, int K, int group, void* out_f16,
                          int ldo, qspec_stream_t stream) {
    (void)stream;
    if (group <= 0 || group % 32 || ldo < K) return ERR_UNSUPPORTED;
    half* out = out_f16;
    int kp = groups_of(K, group) * group;
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) out[(long)n * ldo + k] = (half)weight(w_packed, w_scales_f16, n, k, kp, group);
    return 0;
}

static void quantize_row(const float* v, int K, int group, int bits, int8_t* xq, float* xs, int order) {
    float qmax = bits == 8 ? 127.f : 7.f;
    int groups = groups_of(K, group);
    for (int g = 0; g < groups; g++) {
        float amax = 0;
        for (int e = 0; e < group; e++) {
            int k = g * group + e;
            if (k < K) amax = fmaxf(amax, fabsf(v[k]));
        }
        float inv = amax > 0 ? qmax / amax : 0;
        for (int e = 0; e < group; e++) {
            int k = g * group + e;
            float q = k < K ? fminf(fmaxf(rintf(v[k] * inv), -qmax), qmax) : 0;
            xq[at(order, k)] = (int8_t)q;
        }
        xs[g] = amax / qmax;
    }
}

int qspec_quantize_activations(const void* x_f16, int ldx, int M, int K, int group, int bits, int8_t* xq,
                               float* xscale, int out_order, qspec_stream_t stream) {
    (void)stream;
    if (group <= 0 || group % 32 || (bits != 8 && bits != 4) || !writable(out_order, K)) return ERR_UNSUPPORTED;
    const half* x = x_f16;
    int groups = groups_of(K, group), kp = groups * group;
    float row[K];
    for (int m = 0; m < M; m++) {
        for (int k = 0; k < K; k++) row[k] = (float)x[(long)m * ldx + k];
        quantize_row(row, K, group, bits, xq + (long)m * kp, xscale + (long)m * groups, out_order);
    }
    return 0;
}

int qspec_w4ax_gemm(const int8_t* xq, const float* xscale, const uint8_t* w_packed, const void* w_scales_f16,
                    float* y, int ldy, int M, int N, int K, int group, int bits, int accumulate, int x_order,
                    qspec_stream_t stream) {
    (void)stream;
    if (group <= 0 || group % 32 || (bits != 8 && bits != 4) || !readable(x_order, bits, M, N, K, group))
        return ERR_UNSUPPORTED;
    const half* ws = w_scales_f16;
    int groups = groups_of(K, group), kp = groups * group;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float acc = 0;
            for (int g = 0; g < groups; g++) {
                int dot = 0;
                for (int e = 0; e < group; e++) {
                    int k = g * group + e;
                    int b = w_packed[(long)n * (kp / 2) + k / 2];
                    int q = ((k & 1) ? (b >> 4) : (b & 15)) - 8;
                    dot += q * xq[(long)m * kp + at(x_order, k)];
                }
                acc += (float)ws[(long)n * groups + g] * xscale[(long)m * groups + g] * (float)dot;
            }
            y[(long)m * ldy + n] = accumulate ? y[(long)m * ldy + n] + acc : acc;
        }
    return 0;
}

int qspec_embedding(const int32_t* tokens, const void* table_f16, float* x, int T, int dim, qspec_stream_t stream) {
    (void)stream;
    const half* table = table_f16;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < dim; i++) x[(long)t * dim + i] = (float)table[(long)tokens[t] * dim + i];
    return 0;
}

static float rms_inverse(const float* row, int D, float eps) {
    float ss = 0;
    for (int k = 0; k < D; k++) ss += row[k] * row[k];
    return 1.f / sqrtf(ss / D + eps);
}

int qspec_rmsnorm_f16(const float* x, const float* w, void* y_f16, int M, int D, float eps, int out_order,
                      qspec_stream_t stream) {
    (void)stream;
    if (!writable(out_order, D)) return ERR_UNSUPPORTED;
    half* y = y_f16;
    for (int m = 0; m < M; m++) {
        float r = rms_inverse(x + (long)m * D, D, eps);
        for (int k = 0; k < D; k++) y[(long)m * D + at(out_order, k)] = (half)(x[(long)m * D + k] * r * w[k]);
    }
    return 0;
}

int qspec_rmsnorm_quantize(const float* x, const float* w, int8_t* xq, float* xscale, int M, int D, int group,
                           int bits, float eps, int out_order, qspec_stream_t stream) {
    (void)stream;
    if (group <= 0 || group % 32 || (bits != 8 && bits != 4) || !writable(out_order, D)) return ERR_UNSUPPORTED;
    int groups = groups_of(D, group), kp = groups * group;
    float row[D];
    for (int m = 0; m < M; m++) {
        float r = rms_inverse(x + (long)m * D, D, eps);
        for (int k = 0; k < D; k++) row[k] = x[(long)m * D + k] * r * w[k];
        quantize_row(row, D, group, bits, xq + (long)m * kp, xscale + (long)m * groups, out_order);
    }
    return 0;
}

/* The GEMM and the norm one after the other (the GPU's norm tail gives their bits). The ticket must be 0 on entry, as
 * the kernels need, and is left at 0: a runner that forgot to zero it gets cudaErrorUnknown (999). */
int qspec_w4a16_gemm_add_rmsnorm(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16,
                                 float* y, int M, int N, int K, int group, const float* norm_w, float eps, void* out_f16,
                                 unsigned* ticket, qspec_stream_t stream) {
    if (*ticket != 0) return 999;
    int e = qspec_w4a16_gemm(x_f16, ldx, w_packed, w_scales_f16, y, N, M, N, K, group, 1, QSPEC_TOKENS_ROW, stream);
    return e != 0 ? e : qspec_rmsnorm_f16(y, norm_w, out_f16, M, N, eps, QSPEC_TOKENS_ROW, stream);
}

int qspec_w4ax_gemm_add_rmsnorm_quantize(const int8_t* xq, const float* xscale, const uint8_t* w_packed,
                                         const void* w_scales_f16, float* y, int M, int N, int K, int group, int bits,
                                         const float* norm_w, float eps, int out_group, int8_t* out_q, float* out_scale,
                                         unsigned* ticket, qspec_stream_t stream) {
    if (*ticket != 0) return 999;
    int e = qspec_w4ax_gemm(xq, xscale, w_packed, w_scales_f16, y, N, M, N, K, group, bits, 1, QSPEC_TOKENS_ROW, stream);
    return e != 0 ? e
                  : qspec_rmsnorm_quantize(y, norm_w, out_q, out_scale, M, N, out_group, bits, eps, QSPEC_TOKENS_ROW,
                                           stream);
}

/* The GEMM and the SwiGLU one after the other (the GPU's epilogue gives their bits). */
int qspec_w4a16_gemm_swiglu(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16,
                            float* gate_up, int M, int H, int K, int group, void* out_f16, int x_order, int out_order,
                            qspec_stream_t stream) {
    if (!writable(out_order, H)) return ERR_UNSUPPORTED;
    int e = qspec_w4a16_gemm(x_f16, ldx, w_packed, w_scales_f16, gate_up, 2 * H, M, 2 * H, K, group, 0, x_order, stream);
    return e != 0 ? e : qspec_swiglu_f16(gate_up, gate_up + H, 2 * H, out_f16, M, H, out_order, stream);
}

/* The norm into the scratch rows, then the GEMM on them (the GPU's head gives their bits). */
int qspec_rmsnorm_w4a16_gemm(const float* r, const float* norm_w, float eps, void* normed_f16, const uint8_t* w_packed,
                             const void* w_scales_f16, float* y, int ldy, int M, int N, int K, int group,
                             qspec_stream_t stream) {
    int e = qspec_rmsnorm_f16(r, norm_w, normed_f16, M, K, eps, QSPEC_TOKENS_ROW, stream);
    return e != 0 ? e
                  : qspec_w4a16_gemm(normed_f16, K, w_packed, w_scales_f16, y, ldy, M, N, K, group, 0, QSPEC_TOKENS_ROW,
                                     stream);
}

int qspec_rmsnorm_w4a16_gemm_swiglu(const float* r, const float* norm_w, float eps, void* normed_f16,
                                    const uint8_t* w_packed, const void* w_scales_f16, float* gate_up, int M, int H,
                                    int K, int group, void* out_f16, qspec_stream_t stream) {
    int e = qspec_rmsnorm_f16(r, norm_w, normed_f16, M, K, eps, QSPEC_TOKENS_ROW, stream);
    return e != 0 ? e
                  : qspec_w4a16_gemm_swiglu(normed_f16, K, w_packed, w_scales_f16, gate_up, M, H, K, group, out_f16,
                                            QSPEC_TOKENS_ROW, QSPEC_TOKENS_ROW, stream);
}

int qspec_rmsnorm_quantize_w4ax_gemm(const float* r, const float* norm_w, float eps, int8_t* normed_q,
                                     float* normed_scale, const uint8_t* w_packed, const void* w_scales_f16, float* y,
                                     int ldy, int M, int N, int K, int group, int bits, qspec_stream_t stream) {
    int e = qspec_rmsnorm_quantize(r, norm_w, normed_q, normed_scale, M, K, group, bits, eps, QSPEC_TOKENS_ROW, stream);
    return e != 0 ? e
                  : qspec_w4ax_gemm(normed_q, normed_scale, w_packed, w_scales_f16, y, ldy, M, N, K, group, bits, 0,
                                    QSPEC_TOKENS_ROW, stream);
}

static void rotate(float* v, int hd, int pos, const float* inv_freq, int style) {
    for (int i = 0; i < hd / 2; i++) {
        int a = style == 0 ? 2 * i : i, b = style == 0 ? 2 * i + 1 : i + hd / 2;
        float angle = pos * inv_freq[i], c = cosf(angle), s = sinf(angle);
        float x0 = v[a], x1 = v[b];
        v[a] = x0 * c - x1 * s;
        v[b] = x0 * s + x1 * c;
    }
}

static long slot_offset(const int32_t* bt, int max_blocks, int block_size, int seq, int pos, int kv_heads, int hd) {
    int block = bt[seq * max_blocks + pos / block_size];
    return ((long)block * block_size + pos % block_size) * kv_heads * hd;
}

int qspec_rope_write_kv(const float* q, const float* k, const float* v, int ld, float* q_out,
                        void* k_pool_f16, void* v_pool_f16,
                        const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                        int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim,
                        const float* inv_freq, int rope_style, qspec_stream_t stream) {
    (void)stream;
    half* kp = k_pool_f16;
    half* vp = v_pool_f16;
    int kv_dim = kv_heads * head_dim, q_dim = heads * head_dim;
    float kr[kv_dim];
    for (int t = 0; t < T; t++) {
        memcpy(q_out + (long)t * q_dim, q + (long)t * ld, sizeof(float) * q_dim);
        for (int h = 0; h < heads; h++) rotate(q_out + ((long)t * heads + h) * head_dim, head_dim, token_pos[t], inv_freq, rope_style);
        memcpy(kr, k + (long)t * ld, sizeof kr);
        for (int h = 0; h < kv_heads; h++) rotate(kr + h * head_dim, head_dim, token_pos[t], inv_freq, rope_style);
        long at = slot_offset(block_tables, max_blocks, block_size, token_seq[t], token_pos[t], kv_heads, head_dim);
        for (int i = 0; i < kv_dim; i++) {
            kp[at + i] = (half)kr[i];
            vp[at + i] = (half)v[(long)t * ld + i];
        }
    }
    return 0;
}

int qspec_w4a16_gemm_rope_kv(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16, float* qkv,
                             int M, int K, int group, float* q_out, void* k_pool_f16, void* v_pool_f16,
                             const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                             int max_blocks, int block_size, int heads, int kv_heads, int head_dim,
                             const float* inv_freq, int rope_style, int x_order, qspec_stream_t stream) {
    if (head_dim <= 0 || head_dim % 2 != 0 || heads <= 0 || kv_heads <= 0) return QSPEC_ERR_UNSUPPORTED;
    const int qd = heads * head_dim, kd = kv_heads * head_dim, N = qd + 2 * kd;
    int e = qspec_w4a16_gemm(x_f16, ldx, w_packed, w_scales_f16, qkv, N, M, N, K, group, 0, x_order, stream);
    return e != 0 ? e
                  : qspec_rope_write_kv(qkv, qkv + qd, qkv + qd + kd, N, q_out, k_pool_f16, v_pool_f16, token_seq,
                                        token_pos, block_tables, max_blocks, block_size, M, heads, kv_heads, head_dim,
                                        inv_freq, rope_style, stream);
}

int qspec_w4ax_gemm_rope_kv(const int8_t* xq, const float* xscale, const uint8_t* w_packed, const void* w_scales_f16,
                            float* qkv, int M, int K, int group, int bits, float* q_out, void* k_pool_f16,
                            void* v_pool_f16, const int32_t* token_seq, const int32_t* token_pos,
                            const int32_t* block_tables, int max_blocks, int block_size, int heads, int kv_heads,
                            int head_dim, const float* inv_freq, int rope_style, int x_order, qspec_stream_t stream) {
    if (head_dim <= 0 || head_dim % 2 != 0 || heads <= 0 || kv_heads <= 0) return QSPEC_ERR_UNSUPPORTED;
    const int qd = heads * head_dim, kd = kv_heads * head_dim, N = qd + 2 * kd;
    int e = qspec_w4ax_gemm(xq, xscale, w_packed, w_scales_f16, qkv, N, M, N, K, group, bits, 0, x_order, stream);
    return e != 0 ? e
                  : qspec_rope_write_kv(qkv, qkv + qd, qkv + qd + kd, N, q_out, k_pool_f16, v_pool_f16, token_seq,
                                        token_pos, block_tables, max_blocks, block_size, M, heads, kv_heads, head_dim,
                                        inv_freq, rope_style, stream);
}

size_t qspec_attention_workspace_bytes(int T, int heads, int head_dim, int max_context) {
    if (T <= 0 || heads <= 0 || head_dim <= 0 || max_context <= 0) return 0;
    return (size_t)T * heads * ((max_context + 255) / 256) * (head_dim + 2) * sizeof(float);
}

/* One schedule only: the workspace, which lets the GPU split long contexts, is not needed here. */
int qspec_attention(const float* q, const void* k_pool_f16, const void* v_pool_f16, const int32_t* token_seq,
                    const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T,
                    int heads, int kv_heads, int head_dim, void* workspace, size_t workspace_bytes, void* out_f16,
                    qspec_stream_t stream) {
    (void)stream;
    (void)workspace;
    (void)workspace_bytes;
    const half* kp = k_pool_f16;
    const half* vp = v_pool_f16;
    half* out = out_f16;
    float scale = 1.f / sqrtf((float)head_dim);
    for (int t = 0; t < T; t++) {
        int n = token_pos[t] + 1;
        float scores[n];
        float acc[head_dim];
        for (int h = 0; h < heads; h++) {
            int kvh = h / (heads / kv_heads);
            const float* qh = q + ((long)t * heads + h) * head_dim;
            float max = -INFINITY, sum = 0;
            for (int p = 0; p < n; p++) {
                long at = slot_offset(block_tables, max_blocks, block_size, token_seq[t], p, kv_heads, head_dim) + kvh * head_dim;
                float s = 0;
                for (int d = 0; d < head_dim; d++) s += qh[d] * (float)kp[at + d];
                scores[p] = s * scale;
                max = fmaxf(max, scores[p]);
            }
            for (int p = 0; p < n; p++) sum += scores[p] = expf(scores[p] - max);
            for (int d = 0; d < head_dim; d++) acc[d] = 0;
            for (int p = 0; p < n; p++) {
                long at = slot_offset(block_tables, max_blocks, block_size, token_seq[t], p, kv_heads, head_dim) + kvh * head_dim;
                for (int d = 0; d < head_dim; d++) acc[d] += scores[p] / sum * (float)vp[at + d];
            }
            for (int d = 0; d < head_dim; d++) out[((long)t * heads + h) * head_dim + d] = (half)acc[d];
        }
    }
    return 0;
}

/* The runs are a hint that lets the GPU share K and V loads; the result is qspec_attention's. */
int qspec_attention_runs(const float* q, const void* k_pool_f16, const void* v_pool_f16, const int32_t* token_seq,
                         const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T,
                         int heads, int kv_heads, int head_dim, int run, void* workspace, size_t workspace_bytes,
                         void* out_f16, qspec_stream_t stream) {
    if (run <= 0 || (T > 0 && T % run != 0)) return ERR_UNSUPPORTED;
    return qspec_attention(q, k_pool_f16, v_pool_f16, token_seq, token_pos, block_tables, max_blocks, block_size, T,
                           heads, kv_heads, head_dim, workspace, workspace_bytes, out_f16, stream);
}

/* The bounds only let the GPU leave out a kernel that would find no token; the result is qspec_attention's. Here they
 * are also checked against every token's context, so that a caller's wrong bounds fail its tests: on the GPU they would
 * give a token the other kernel's bits. */
int qspec_attention_pass(const float* q, const void* k_pool_f16, const void* v_pool_f16, const int32_t* token_seq,
                         const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T,
                         int heads, int kv_heads, int head_dim, int run, int min_context, int max_context,
                         void* workspace, size_t workspace_bytes, void* out_f16, qspec_stream_t stream) {
    if (run < 0 || (run > 0 && T > 0 && T % run != 0)) return ERR_UNSUPPORTED;
    if (min_context < 0 || max_context < 0 || (max_context > 0 && min_context > max_context)) return ERR_UNSUPPORTED;
    for (int t = 0; t < T; t++) {
        int n = token_pos[t] + 1;
        if (n < min_context || (max_context > 0 && n > max_context)) return ERR_UNSUPPORTED;
    }
    return qspec_attention(q, k_pool_f16, v_pool_f16, token_seq, token_pos, block_tables, max_blocks, block_size, T,
                           heads, kv_heads, head_dim, workspace, workspace_bytes, out_f16, stream);
}

/* The library's rule (attention_decode_tiles.cuh), so that callers see the thresholds they would on a GPU; the one
 * arithmetic above serves every token here. */
int qspec_attention_decode_tiles_from(int heads, int kv_heads, int head_dim) {
    const char* v = getenv("QSPEC_ATTENTION_DECODE_TILES");
    if (kv_heads <= 0 || heads % kv_heads != 0 || head_dim != 128 || heads / kv_heads > 16) return -1;
    if (v != NULL && strcmp(v, "0") == 0) return -1;
    if (v != NULL && (strcmp(v, "all") == 0 || strcmp(v, "seq") == 0)) return 0;
    const char* from = getenv("QSPEC_ATTENTION_DECODE_TILES_FROM");
    int n = from != NULL ? atoi(from) : 512;
    return n > 0 ? n : 0;
}

/* The two calls it fuses on the GPU, one after the other (the GPU kernel gives their bits). */
int qspec_rope_attention(const float* qkv, int ld, void* k_pool_f16, void* v_pool_f16, const int32_t* token_seq,
                         const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T,
                         int heads, int kv_heads, int head_dim, const float* inv_freq, int rope_style, void* workspace,
                         size_t workspace_bytes, void* out_f16, qspec_stream_t stream) {
    if (rope_style != 0 && rope_style != 1) return QSPEC_ERR_UNSUPPORTED;
    if (ld < (heads + 2 * kv_heads) * head_dim) return QSPEC_ERR_UNSUPPORTED;
    if (T <= 0) return 0;
    float* q = malloc(sizeof(float) * (size_t)T * heads * head_dim);
    if (q == NULL) return 2; /* cudaErrorMemoryAllocation */
    const float* k = qkv + (long)heads * head_dim;
    const float* v = k + (long)kv_heads * head_dim;
    int e = qspec_rope_write_kv(qkv, k, v, ld, q, k_pool_f16, v_pool_f16, token_seq, token_pos, block_tables, max_blocks,
                                block_size, T, heads, kv_heads, head_dim, inv_freq, rope_style, stream);
    if (e == 0)
        e = qspec_attention(q, k_pool_f16, v_pool_f16, token_seq, token_pos, block_tables, max_blocks, block_size, T,
                            heads, kv_heads, head_dim, workspace, workspace_bytes, out_f16, stream);
    free(q);
    return e;
}

int qspec_swiglu_f16(const float* gate, const float* up, int ld, void* out_f16, int M, int H, int out_order,
                     qspec_stream_t stream) {
    (void)stream;
    if (!writable(out_order, H)) return ERR_UNSUPPORTED;
    half* out = out_f16;
    for (int m = 0; m < M; m++)
        for (int j = 0; j < H; j++) {
            float g = gate[(long)m * ld + j];
            out[(long)m * H + at(out_order, j)] = (half)(g / (1.f + expf(-g)) * up[(long)m * ld + j]);
        }
    return 0;
}

int qspec_swiglu_quantize(const float* gate, const float* up, int ld, int M, int H, int group, int bits, int8_t* xq,
                          float* xscale, int out_order, qspec_stream_t stream) {
    half* h = malloc((size_t)M * H * sizeof(half));
    if (h == NULL) return 2; /* cudaErrorMemoryAllocation */
    qspec_swiglu_f16(gate, up, ld, h, M, H, QSPEC_TOKENS_ROW, stream);
    int status = qspec_quantize_activations(h, H, M, H, group, bits, xq, xscale, out_order, stream);
    free(h);
    return status;
}

static int forced_launch_status = 0;

/* Test hook (not part of the ABI): qspec_f32_to_f16, the probe's test launch, returns this status (0: works). */
void qspec_emulated_set_launch_status(int status) { forced_launch_status = status; }

int qspec_f32_to_f16(const float* x, void* y_f16, long n, qspec_stream_t stream) {
    (void)stream;
    if (forced_launch_status != 0) return forced_launch_status;
    half* y = y_f16;
    for (long i = 0; i < n; i++) y[i] = (half)x[i];
    return 0;
}

int qspec_add_inplace(float* x, const float* y, long n, qspec_stream_t stream) {
    (void)stream;
    for (long i = 0; i < n; i++) x[i] += y[i];
    return 0;
}

int qspec_argmax(const float* logits, int M, int V, int32_t* out, qspec_stream_t stream) {
    (void)stream;
    for (int m = 0; m < M; m++) {
        int best = 0;
        for (int v = 1; v < V; v++)
            if (logits[(long)m * V + v] > logits[(long)m * V + best]) best = v;
        out[m] = best;
    }
    return 0;
}

/* ---- Sampling (ABI 5, 6): the semantics of native/src/sample.cu in plain loops ---- */

static const float FIXED_ONE = 1099511627776.f; /* 2^40 */

static unsigned long long fixed_mass(float w) { return w > 0.f ? (unsigned long long)(w * FIXED_ONE) : 0ull; }

size_t qspec_sample_workspace_bytes(int n_draws, int V) {
    if (n_draws <= 0 || V <= 0) return 0;
    return (size_t)n_draws * (size_t)V * sizeof(float);
}

/* Indices of w's positive weights by weight, highest first, then by index (the host sort's order). */
static const float* sort_weights;
static int by_weight(const void* a, const void* b) {
    int i = *(const int*)a, j = *(const int*)b;
    float x = sort_weights[i], y = sort_weights[j];
    if (x != y) return x > y ? -1 : 1;
    return i < j ? -1 : (i > j);
}

static int sorted_positive(const float* w, int V, int* order) {
    int n = 0;
    for (int i = 0; i < V; i++)
        if (w[i] > 0.f) order[n++] = i;
    sort_weights = w;
    qsort(order, n, sizeof(int), by_weight);
    return n;
}

/* The first index whose cumulative fixed-point mass exceeds uniform * total, or -1; *total gets the sum. */
static int inverse_cdf(const unsigned long long* mass, int V, double uniform, unsigned long long* total) {
    unsigned long long sum = 0;
    for (int i = 0; i < V; i++) sum += mass[i];
    *total = sum;
    unsigned long long target = (unsigned long long)(uniform * (double)sum), running = 0;
    for (int i = 0; i < V; i++) {
        running += mass[i];
        if (target < running) return i;
    }
    return -1;
}

/* One draw over row `in` into weights w (V floats); returns the token (-1 NaN, -2 all -inf), *total the kept mass. */
static int sample_one(const float* in, int V, const qspec_draw* d, const int32_t* history_tokens,
                      const int32_t* history_counts, float* w, unsigned long long* total) {
    int nan = 0;
    for (int i = 0; i < V; i++) {
        w[i] = in[i];
        nan |= isnan(in[i]);
    }
    for (int j = 0; j < d->history_length; j++) {
        int token = history_tokens[d->history_offset + j];
        double l = w[token];
        l = l > 0 ? l / d->repetition_penalty : l * d->repetition_penalty;
        l -= history_counts[d->history_offset + j] * d->frequency_penalty + d->presence_penalty;
        if (isfinite(w[token])) l = fmin(fmax(l, -(double)FLT_MAX), (double)FLT_MAX);
        w[token] = (float)l;
    }
    float best = -INFINITY;
    int best_index = 0x7fffffff;
    for (int i = 0; i < V; i++)
        if (!isnan(w[i]) && (w[i] > best || (w[i] == best && i < best_index))) {
            best = w[i];
            best_index = i;
        }
    if (d->temperature == 0) {
        int token = best_index == 0x7fffffff ? 0 : best_index;
        for (int i = 0; i < V; i++) w[i] = i == token ? 1.f : 0.f;
        *total = fixed_mass(1.f);
        return token;
    }
    if (nan || best == -INFINITY) {
        *total = 0;
        return nan ? -1 : -2;
    }
    float inv_t = (float)(1.0 / d->temperature);
    for (int i = 0; i < V; i++) {
        float l = w[i];
        w[i] = best == INFINITY ? (l == INFINITY ? 1.f : 0.f) : expf((l - best) * inv_t);
    }
    int* order = malloc(sizeof(int) * (size_t)V);
    int positive = sorted_positive(w, V, order);
    if (d->top_k > 0 && d->top_k < positive) {
        for (int r = d->top_k; r < positive; r++) w[order[r]] = 0.f;
        positive = d->top_k;
    }
    if (d->top_p < 1) {
        unsigned long long mass = 0, running = 0;
        for (int r = 0; r < positive; r++) mass += fixed_mass(w[order[r]]);
        double t = d->top_p * (double)mass * (1 - 1e-6);
        unsigned long long target = (unsigned long long)(t < 1.0 ? 1.0 : t);
        int keep = positive;
        for (int r = 0; r < positive; r++) {
            running += fixed_mass(w[order[r]]);
            if (running >= target) {
                keep = r + 1;
                break;
            }
        }
        for (int r = keep; r < positive; r++) w[order[r]] = 0.f;
    }
    free(order);
    if (d->min_p > 0)
        for (int i = 0; i < V; i++)
            if ((double)w[i] < d->min_p) w[i] = 0.f;
    unsigned long long* mass = malloc(sizeof(unsigned long long) * (size_t)V);
    for (int i = 0; i < V; i++) mass[i] = fixed_mass(w[i]);
    int drawn = inverse_cdf(mass, V, d->uniform, total);
    free(mass);
    return drawn >= 0 ? drawn : best_index;
}

int qspec_sample(const float* logits, int ld, int V, const qspec_draw* draws, int n_draws,
                 const int32_t* history_tokens, const int32_t* history_counts, void* workspace,
                 size_t workspace_bytes, int32_t* tokens_out, qspec_stream_t stream) {
    (void)stream;
    if (n_draws <= 0) return 0;
    if (V <= 0 || V > QSPEC_MAX_SAMPLING_VOCAB || ld < V || workspace_bytes < qspec_sample_workspace_bytes(n_draws, V))
        return ERR_UNSUPPORTED;
    for (int d = 0; d < n_draws; d++) {
        unsigned long long total;
        tokens_out[d] = sample_one(logits + (long)draws[d].row * ld, V, &draws[d], history_tokens, history_counts,
                                   (float*)workspace + (long)d * V, &total);
    }
    return 0;
}

int qspec_sample_keep(const float* logits, int ld, int V, const qspec_draw* draws, int n_draws,
                      const int32_t* history_tokens, const int32_t* history_counts, const int32_t* slots,
                      float* kept, unsigned long long* kept_totals, int32_t* tokens_out, qspec_stream_t stream) {
    (void)stream;
    if (n_draws <= 0) return 0;
    if (V <= 0 || V > QSPEC_MAX_SAMPLING_VOCAB || ld < V || !slots || !kept || !kept_totals) return ERR_UNSUPPORTED;
    for (int d = 0; d < n_draws; d++)
        tokens_out[d] = sample_one(logits + (long)draws[d].row * ld, V, &draws[d], history_tokens, history_counts,
                                   kept + (long)slots[d] * V, &kept_totals[slots[d]]);
    return 0;
}

/* The last index of positive weight (the host Sampler's answer when rounding leaves the target at the total). */
static int last_positive(const float* w, int V) {
    for (int i = V - 1; i >= 0; i--)
        if (w[i] > 0.f) return i;
    return 0;
}

int qspec_rejection_sample(const float* kept, const unsigned long long* kept_totals, int V,
                           const qspec_rejection* lanes, int n_lanes, const int32_t* draft_tokens,
                           const int32_t* draft_slots, const int32_t* verify_slots, const double* uniforms,
                           int32_t* accepted_out, int32_t* next_out, qspec_stream_t stream) {
    (void)stream;
    if (n_lanes <= 0) return 0;
    if (V <= 0 || V > QSPEC_MAX_SAMPLING_VOCAB) return ERR_UNSUPPORTED;
    unsigned long long* mass = malloc(sizeof(unsigned long long) * (size_t)V);
    for (int l = 0; l < n_lanes; l++) {
        const qspec_rejection lane = lanes[l];
        const int gamma = lane.gamma;
        const double u_last = uniforms[lane.verify_offset + gamma];
        int missing = 0;
        for (int i = 0; i <= gamma; i++) {
            missing |= kept_totals[verify_slots[lane.verify_offset + i]] == 0;
            if (i < gamma) missing |= kept_totals[draft_slots[lane.draft_offset + i]] == 0;
        }
        accepted_out[l] = 0;
        next_out[l] = -1;
        if (missing) continue;
        int decided = 0;
        for (int i = 0; i < gamma && !decided; i++) {
            long sp = verify_slots[lane.verify_offset + i], sq = draft_slots[lane.draft_offset + i];
            unsigned long long tp = kept_totals[sp], tq = kept_totals[sq];
            int x = draft_tokens[lane.draft_offset + i];
            const float* wp = kept + sp * V;
            const float* wq = kept + sq * V;
            double p = (double)fixed_mass(wp[x]) / (double)tp, q = (double)fixed_mass(wq[x]) / (double)tq;
            double u = uniforms[lane.verify_offset + i];
            if (q <= 0 ? p > 0 : u * q < p) continue;
            double inv_p = 1.0 / (double)tp, inv_q = 1.0 / (double)tq;
            for (int t = 0; t < V; t++) {
                double r = (double)fixed_mass(wp[t]) * inv_p - (double)fixed_mass(wq[t]) * inv_q;
                mass[t] = r > 0 ? (unsigned long long)(r * (double)FIXED_ONE) : 0ull;
            }
            unsigned long long total;
            int drawn = inverse_cdf(mass, V, u_last, &total);
            if (total == 0) {
                for (int t = 0; t < V; t++) mass[t] = fixed_mass(wp[t]);
                drawn = inverse_cdf(mass, V, u_last, &total);
            }
            accepted_out[l] = i;
            next_out[l] = drawn >= 0 ? drawn : last_positive(wp, V);
            decided = 1;
        }
        if (decided) continue;
        const float* wb = kept + (long)verify_slots[lane.verify_offset + gamma] * V;
        for (int t = 0; t < V; t++) mass[t] = fixed_mass(wb[t]);
        unsigned long long total;
        int drawn = inverse_cdf(mass, V, u_last, &total);
        accepted_out[l] = gamma;
        next_out[l] = drawn >= 0 ? drawn : last_positive(wb, V);
    }
    free(mass);
    return 0;
}
