/*
 * Scalar host implementations of every function of native/include/qspec_cuda.h, paired with
 * emulated_cudart.c to run qspec-cuda's forward pass without a GPU. They follow the header's
 * semantics (fp16 storage points, per-token-per-group activation quantization with
 * scale = max|x| / qmax, paged KV cache) in the simplest possible loops. Test-only: never shipped.
 */
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

typedef _Float16 half;
#define ERR_UNSUPPORTED 10001

static int groups_of(int k, int group) { return (k + group - 1) / group; }

static float weight(const uint8_t* packed, const half* scales, int n, int k, int kp, int group) {
    int b = packed[(long)n * (kp / 2) + k / 2];
    int q = ((k & 1) ? (b >> 4) : (b & 15)) - 8;
    return (float)scales[(long)n * (kp / group) + k / group] * (float)q;
}

int qspec_abi_version(void) { return 3; }

int qspec_w4a16_gemm(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16, float* y,
                     int ldy, int M, int N, int K, int group, int accumulate, void* stream) {
    (void)stream;
    if (group <= 0 || group % 32) return ERR_UNSUPPORTED;
    const half* x = x_f16;
    int kp = groups_of(K, group) * group;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float acc = 0;
            for (int k = 0; k < K; k++) acc += (float)x[(long)m * ldx + k] * weight(w_packed, w_scales_f16, n, k, kp, group);
            y[(long)m * ldy + n] = accumulate ? y[(long)m * ldy + n] + acc : acc;
        }
    return 0;
}

int qspec_dequantize_int4(const uint8_t* w_packed, const void* w_scales_f16, int N, int K, int group, void* out_f16,
                          int ldo, void* stream) {
    (void)stream;
    if (group <= 0 || group % 32 || ldo < K) return ERR_UNSUPPORTED;
    half* out = out_f16;
    int kp = groups_of(K, group) * group;
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) out[(long)n * ldo + k] = (half)weight(w_packed, w_scales_f16, n, k, kp, group);
    return 0;
}

static void quantize_row(const float* v, int K, int group, int bits, int8_t* xq, float* xs) {
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
            xq[k] = (int8_t)q;
        }
        xs[g] = amax / qmax;
    }
}

int qspec_quantize_activations(const void* x_f16, int ldx, int M, int K, int group, int bits, int8_t* xq,
                               float* xscale, void* stream) {
    (void)stream;
    if (group <= 0 || group % 32 || (bits != 8 && bits != 4)) return ERR_UNSUPPORTED;
    const half* x = x_f16;
    int groups = groups_of(K, group), kp = groups * group;
    float row[K];
    for (int m = 0; m < M; m++) {
        for (int k = 0; k < K; k++) row[k] = (float)x[(long)m * ldx + k];
        quantize_row(row, K, group, bits, xq + (long)m * kp, xscale + (long)m * groups);
    }
    return 0;
}

int qspec_w4ax_gemm(const int8_t* xq, const float* xscale, const uint8_t* w_packed, const void* w_scales_f16,
                    float* y, int ldy, int M, int N, int K, int group, int bits, int accumulate, void* stream) {
    (void)stream;
    if (group <= 0 || group % 32 || (bits != 8 && bits != 4)) return ERR_UNSUPPORTED;
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
                    dot += q * xq[(long)m * kp + k];
                }
                acc += (float)ws[(long)n * groups + g] * xscale[(long)m * groups + g] * (float)dot;
            }
            y[(long)m * ldy + n] = accumulate ? y[(long)m * ldy + n] + acc : acc;
        }
    return 0;
}

int qspec_embedding(const int32_t* tokens, const void* table_f16, float* x, int T, int dim, void* stream) {
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

int qspec_rmsnorm_f16(const float* x, const float* w, void* y_f16, int M, int D, float eps, void* stream) {
    (void)stream;
    half* y = y_f16;
    for (int m = 0; m < M; m++) {
        float r = rms_inverse(x + (long)m * D, D, eps);
        for (int k = 0; k < D; k++) y[(long)m * D + k] = (half)(x[(long)m * D + k] * r * w[k]);
    }
    return 0;
}

int qspec_rmsnorm_quantize(const float* x, const float* w, int8_t* xq, float* xscale, int M, int D, int group,
                           int bits, float eps, void* stream) {
    (void)stream;
    if (group <= 0 || group % 32 || (bits != 8 && bits != 4)) return ERR_UNSUPPORTED;
    int groups = groups_of(D, group), kp = groups * group;
    float row[D];
    for (int m = 0; m < M; m++) {
        float r = rms_inverse(x + (long)m * D, D, eps);
        for (int k = 0; k < D; k++) row[k] = x[(long)m * D + k] * r * w[k];
        quantize_row(row, D, group, bits, xq + (long)m * kp, xscale + (long)m * groups);
    }
    return 0;
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
                        const float* inv_freq, int rope_style, void* stream) {
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

size_t qspec_attention_workspace_bytes(int T, int heads, int head_dim, int max_context) {
    if (T <= 0 || heads <= 0 || head_dim <= 0 || max_context <= 0) return 0;
    return (size_t)T * heads * ((max_context + 255) / 256) * (head_dim + 2) * sizeof(float);
}

/* One schedule only: the workspace, which lets the GPU split long contexts, is not needed here. */
int qspec_attention(const float* q, const void* k_pool_f16, const void* v_pool_f16, const int32_t* token_seq,
                    const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T,
                    int heads, int kv_heads, int head_dim, void* workspace, size_t workspace_bytes, void* out_f16,
                    void* stream) {
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

int qspec_swiglu_f16(const float* gate, const float* up, int ld, void* out_f16, int M, int H, void* stream) {
    (void)stream;
    half* out = out_f16;
    for (int m = 0; m < M; m++)
        for (int j = 0; j < H; j++) {
            float g = gate[(long)m * ld + j];
            out[(long)m * H + j] = (half)(g / (1.f + expf(-g)) * up[(long)m * ld + j]);
        }
    return 0;
}

int qspec_swiglu_quantize(const float* gate, const float* up, int ld, int M, int H, int group, int bits, int8_t* xq,
                          float* xscale, void* stream) {
    half* h = malloc((size_t)M * H * sizeof(half));
    if (h == NULL) return 2; /* cudaErrorMemoryAllocation */
    qspec_swiglu_f16(gate, up, ld, h, M, H, stream);
    int status = qspec_quantize_activations(h, H, M, H, group, bits, xq, xscale, stream);
    free(h);
    return status;
}

int qspec_f32_to_f16(const float* x, void* y_f16, long n, void* stream) {
    (void)stream;
    half* y = y_f16;
    for (long i = 0; i < n; i++) y[i] = (half)x[i];
    return 0;
}

int qspec_add_inplace(float* x, const float* y, long n, void* stream) {
    (void)stream;
    for (long i = 0; i < n; i++) x[i] += y[i];
    return 0;
}

int qspec_argmax(const float* logits, int M, int V, int32_t* out, void* stream) {
    (void)stream;
    for (int m = 0; m < M; m++) {
        int best = 0;
        for (int v = 1; v < V; v++)
            if (logits[(long)m * V + v] > logits[(long)m * V + best]) best = v;
        out[m] = best;
    }
    return 0;
}
