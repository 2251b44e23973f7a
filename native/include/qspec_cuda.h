/*
 * qspec_cuda.h — the C ABI of libqspec_cuda.so, QSpec's handwritten CUDA kernels.
 *
 * Contract with the Java side (qspec-cuda, FFM bindings):
 *  - Java validates every size, index and pointer range BEFORE calling; kernels trust their
 *    arguments (they still never write outside the buffers those arguments describe).
 *  - Every function is asynchronous on `stream` and returns 0, or a cudaError_t value from the
 *    launch (cudaGetLastError()), or QSPEC_ERR_* for an argument combination the kernels do not
 *    support.
 *  - Pointers are device pointers unless the name ends in _host.
 *
 * The one INT4 weight layout (identical to io.qspec.quant.Int4Matrix, read directly by both
 * the verify and the draft GEMMs; never transformed per call):
 *  - W is [N = out features, K = in features]; groups of `group` (multiple of 32) inputs per row;
 *    groups_per_row = ceil(K / group); Kp = groups_per_row * group (padded with zero weights).
 *  - w_packed: N * Kp/2 bytes; row n at n*Kp/2; input k in byte k/2, LOW nibble = even k,
 *    high nibble = odd k; nibble u encodes q = u - 8 in [-8, 7].
 *  - w_scales: N * groups_per_row IEEE fp16, scale of (n, g) at n*groups_per_row + g.
 *  - W[n][k] = w_scales[n, k/group] * q[n][k].
 *
 * Activations: the residual stream is fp32 [T, dim]; GEMM inputs are fp16 (verify, "A16") or
 * per-token-per-group quantized int8 with fp32 scales (draft, "A8" in [-127,127], "A4" in [-8,7]);
 * GEMM outputs are fp32. T = total tokens of the batch (sum over sequences).
 *
 * Paged KV cache (fp16): per layer a K pool and a V pool of shape
 * [num_blocks, block_size, kv_heads, head_dim]. Token t of the batch belongs to sequence
 * token_seq[t] at position token_pos[t]; its K/V go to block block_tables[seq * max_blocks +
 * pos / block_size], slot pos % block_size (overwriting whatever a draft pass wrote there).
 * Attention for token t covers positions [0, token_pos[t]] of its sequence (causal, including
 * the K/V written by the same pass).
 */
#ifndef QSPEC_CUDA_H
#define QSPEC_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CUstream_st* qspec_stream_t;

#define QSPEC_ERR_UNSUPPORTED 10001 /* argument combination not supported by these kernels */

/* Version of this ABI; Java refuses a library whose version differs. */
#define QSPEC_ABI_VERSION 13
int qspec_abi_version(void);

/* ---- Token order of the GEMMs' inputs (ABI 13) ----
 * The GEMMs read their token rows (x_f16 of the W4A16 GEMMs, xq of the draft's) in the order their x_order argument
 * names, and the producers of such rows (the norms, the quantizers, SwiGLU) write them in the order their out_order
 * argument names:
 *  - QSPEC_TOKENS_ROW: input k of a row at element k (the layout the rest of this header describes);
 *  - QSPEC_TOKENS_MMA: each 128-input step of every row permuted into the order in which the sm_90a warpgroup kernels'
 *    MMAs read it (fp16 and int8 rows each their own; rows as far apart as in row order; the draft's group scales
 *    unchanged). Rows of K inputs take it only where K is a multiple of 128 (else QSPEC_ERR_UNSUPPORTED).
 * A GEMM whose tokens come in MMA order skips the pass that would otherwise permute them (a launch and a round trip
 * of the tokens; both orders give the same sums, bit for bit). qspec_tokens_order(bits, M, N, K, group) says which
 * order a GEMM of M tokens over an N x K matrix reads without that pass on the current device: bits 16 for the
 * W4A16 GEMMs (rows 16-byte aligned, ldx a multiple of 8), 8 or 4 for the draft's. A GEMM given x_order
 * QSPEC_TOKENS_MMA where qspec_tokens_order says QSPEC_TOKENS_ROW returns QSPEC_ERR_UNSUPPORTED. */
#define QSPEC_TOKENS_ROW 0
#define QSPEC_TOKENS_MMA 1
int qspec_tokens_order(int bits, int M, int N, int K, int group);

/* ---- GEMMs over the shared INT4 weights: y[T, N] = x[T, K] * W^T ---- */

/* Verify GEMM (W4A16): x fp16 [M, ldx >= K]; y fp32 [M, ldy >= N].
 * Tensor-core MMA (m16n8k16, fp32 accumulation) for every M. Row m of y is bit for bit the same
 * whatever M is (the verify pass must reproduce one-token decoding exactly).
 * accumulate != 0: y += x W^T (each y element read and written once; the residual add of the wo and
 * down projections fused into the GEMM, with the fp32 addition a separate add would do). x_order: of x's rows. */
int qspec_w4a16_gemm(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16,
                     float* y, int ldy, int M, int N, int K, int group, int accumulate, int x_order,
                     qspec_stream_t stream);

/* Quantizes activations per token and per group along K: xq int8 [M, Kp] (padding zeroed; rows in out_order),
 * xscale fp32 [M, groups_per_row]; bits = 8 (A8) or 4 (A4). Input fp16 [M, ldx]. */
int qspec_quantize_activations(const void* x_f16, int ldx, int M, int K, int group, int bits,
                               int8_t* xq, float* xscale, int out_order, qspec_stream_t stream);

/* Draft GEMM (W4A8 / W4A4 held in int8): INT8 tensor-core MMA (m16n8k32 s8) for every M. For
 * bits = 4 with group % 128 == 0 an s4 MMA path (m16n8k64, INT4 tensor cores of sm_80/86/89)
 * exists; it is taken only with the environment variable QSPEC_S4=1 on a compute capability 8.x
 * device, or QSPEC_S4=force anywhere (testing). int32 accumulation per group,
 * y[m,n] = sum_g wscale[n,g] * xscale[m,g] * dot_g (accumulate != 0: added to y, as for W4A16). x_order: of xq's
 * rows. */
int qspec_w4ax_gemm(const int8_t* xq, const float* xscale, const uint8_t* w_packed,
                    const void* w_scales_f16, float* y, int ldy, int M, int N, int K, int group, int bits,
                    int accumulate, int x_order, qspec_stream_t stream);

/* ---- The residual-adding GEMMs with the next RMSNorm (ABI 8) ----
 * y [M, N] += x W^T as the GEMM with accumulate != 0 (rows of y N apart: the residual stream, D = N), then the
 * RMSNorm of the new y with gains norm_w [N], written where the standalone kernel would write it, bit for bit. In
 * decode passes (M <= 4 on sm_90) the GEMV's last CTA normalises the rows, one launch fewer; elsewhere the two
 * kernels run one after the other (the same bits). ticket: a 4-byte aligned device word that is 0 before the call and
 * that the call leaves at 0; calls that may run at the same time need distinct tickets. The outputs may not overlap
 * x (xq, xscale), the weights, y or norm_w. */

/* ... then out_f16 [M, N] as qspec_rmsnorm_f16. */
int qspec_w4a16_gemm_add_rmsnorm(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16,
                                 float* y, int M, int N, int K, int group, const float* norm_w, float eps,
                                 void* out_f16, unsigned* ticket, qspec_stream_t stream);

/* ... then out_q, out_scale as qspec_rmsnorm_quantize with out_group and the draft's bits. */
int qspec_w4ax_gemm_add_rmsnorm_quantize(const int8_t* xq, const float* xscale, const uint8_t* w_packed,
                                         const void* w_scales_f16, float* y, int M, int N, int K, int group, int bits,
                                         const float* norm_w, float eps, int out_group, int8_t* out_q,
                                         float* out_scale, unsigned* ticket, qspec_stream_t stream);

/* The stacked gate|up projection with SwiGLU (ABI 8): out_f16 [M, H] = silu(gate) * up as qspec_swiglu_f16 computes
 * it from the GEMM's fp32 sums, bit for bit, where W is the stacked [2H, K] gate|up matrix. gate_up: fp32 [M, 2H]
 * scratch (rows 2H apart; its contents afterwards are unspecified). In decode passes (M <= 8 on sm_90) each CTA of the
 * GEMV holds both sums of its hidden units and stores the SwiGLU itself, one launch fewer; elsewhere the GEMM and
 * qspec_swiglu_f16 run one after the other (the same bits). out may not overlap x, the weights or gate_up. x_order: of
 * x's rows, out_order: of out's (ABI 13). */
int qspec_w4a16_gemm_swiglu(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16,
                            float* gate_up, int M, int H, int K, int group, void* out_f16, int x_order, int out_order,
                            qspec_stream_t stream);

/* ---- The GEMMs that normalise their own input (ABI 10) ----
 * y [M, N] (rows ldy apart) = x W^T for x the fp16 rows qspec_rmsnorm_f16(r, norm_w, eps) writes from the fp32 rows
 * r [M, K] (rows K apart) and gains norm_w [K], bit for bit. In decode passes (M <= 2 and K <= 4096 on sm_90) every
 * CTA of the GEMV normalises the rows into its shared memory, one launch fewer; elsewhere qspec_rmsnorm_f16 writes
 * them to normed_f16 [M, K] and the GEMM reads them there (the same bits; also where normed_f16 is not 16-byte
 * aligned). normed_f16: scratch (its contents afterwards are unspecified). The outputs may not overlap r, norm_w, the
 * weights or each other. */
int qspec_rmsnorm_w4a16_gemm(const float* r, const float* norm_w, float eps, void* normed_f16, const uint8_t* w_packed,
                             const void* w_scales_f16, float* y, int ldy, int M, int N, int K, int group,
                             qspec_stream_t stream);

/* ... with the SwiGLU of qspec_w4a16_gemm_swiglu: W the stacked gate|up matrix [2H, K], gate_up fp32 [M, 2H] scratch,
 * out_f16 [M, H]. */
int qspec_rmsnorm_w4a16_gemm_swiglu(const float* r, const float* norm_w, float eps, void* normed_f16,
                                    const uint8_t* w_packed, const void* w_scales_f16, float* gate_up, int M, int H,
                                    int K, int group, void* out_f16, qspec_stream_t stream);

/* The draft GEMM with the RMSNorm and quantizer of its input: y [M, N] (rows ldy apart) = qspec_w4ax_gemm of the codes
 * and scales qspec_rmsnorm_quantize(r, norm_w, group, bits, eps) writes, bit for bit; in decode passes (M <= 2, K <=
 * 4096, group 128, s8 MMA, on sm_90) every CTA of the GEMV quantizes the rows into its shared memory, one launch fewer;
 * elsewhere the codes and scales go to normed_q [M, Kp] (16-byte aligned) and normed_scale [M, Kp / group] (scratch;
 * Kp = K rounded up to a group) and the GEMM reads them there (the same bits). */
int qspec_rmsnorm_quantize_w4ax_gemm(const float* r, const float* norm_w, float eps, int8_t* normed_q,
                                     float* normed_scale, const uint8_t* w_packed, const void* w_scales_f16, float* y,
                                     int ldy, int M, int N, int K, int group, int bits, qspec_stream_t stream);

/* Dense copy of an INT4 matrix for the W16A16 baseline (cuBLAS fp16 GEMM): out fp16 [N, ldo >= K],
 * out[n][k] = fp16(w_scales[n, k/group] * q[n][k]) for k < K (scale * q is exact in fp32 and rounded
 * once); columns K..ldo-1 are not written. w_packed must be 4-byte aligned (read as 32-bit words). */
int qspec_dequantize_int4(const uint8_t* w_packed, const void* w_scales_f16, int N, int K, int group,
                          void* out_f16, int ldo, qspec_stream_t stream);

/* ---- the rest of a Llama block ---- */

/* x fp32 [T, dim] = embedding row of tokens[t] (table fp16 [vocab, dim]). */
int qspec_embedding(const int32_t* tokens, const void* table_f16, float* x, int T, int dim,
                    qspec_stream_t stream);

/* y fp16 [M, D] = x / rms(x) * w   (true RMSNorm: no mean subtraction), y's rows in out_order. */
int qspec_rmsnorm_f16(const float* x, const float* w, void* y_f16, int M, int D, float eps, int out_order,
                      qspec_stream_t stream);

/* SwiGLU fused with draft activation quantization: the values of qspec_swiglu_f16 (gate, up rows ld
 * apart) quantized as qspec_quantize_activations would (xq int8 [M, Hp], xscale [M, groups]). */
int qspec_swiglu_quantize(const float* gate, const float* up, int ld, int M, int H, int group, int bits,
                          int8_t* xq, float* xscale, int out_order, qspec_stream_t stream);

/* RMSNorm fused with draft activation quantization (outputs as qspec_quantize_activations). */
int qspec_rmsnorm_quantize(const float* x, const float* w, int8_t* xq, float* xscale, int M, int D,
                           int group, int bits, float eps, int out_order, qspec_stream_t stream);

/* RoPE and the KV write of one layer. q, k, v: fp32 rows of stride ld (the fused q|k|v GEMM output:
 * q = row, k = row + heads*head_dim, v = k + kv_heads*head_dim). Writes RoPE(q) to q_out fp32
 * [T, heads*head_dim] and RoPE(k), v as fp16 into the paged cache. inv_freq: [head_dim/2] (Llama-3
 * scaling applied by the caller). rope_style 0 = interleaved pairs (2i, 2i+1), 1 = half split
 * (i, i + head_dim/2). */
int qspec_rope_write_kv(const float* q, const float* k, const float* v, int ld, float* q_out,
                        void* k_pool_f16, void* v_pool_f16,
                        const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                        int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim,
                        const float* inv_freq, int rope_style, qspec_stream_t stream);

/* The stacked q|k|v projection with RoPE and the KV write (ABI 12): qkv fp32 [M, N] (N = (heads + 2 kv_heads) *
 * head_dim, rows N apart) = x W^T as qspec_w4a16_gemm (qspec_w4ax_gemm) computes it, then what qspec_rope_write_kv
 * writes from those rows (q_out, the cache), bit for bit; the arguments after q_out are qspec_rope_write_kv's, with
 * T = M. In decode passes (M <= 8 on sm_90, rope_style 0) the threads of the GEMV that hold a pair's sums rotate and
 * store it, one launch fewer (QSPEC_ROPE_EPILOGUE=0 turns that off); elsewhere the two calls run one after the other.
 * The outputs may not overlap x, the weights, qkv or each other. x_order: of x's (xq's) rows (ABI 13). */
int qspec_w4a16_gemm_rope_kv(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16, float* qkv,
                             int M, int K, int group, float* q_out, void* k_pool_f16, void* v_pool_f16,
                             const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                             int max_blocks, int block_size, int heads, int kv_heads, int head_dim,
                             const float* inv_freq, int rope_style, int x_order, qspec_stream_t stream);
int qspec_w4ax_gemm_rope_kv(const int8_t* xq, const float* xscale, const uint8_t* w_packed, const void* w_scales_f16,
                            float* qkv, int M, int K, int group, int bits, float* q_out, void* k_pool_f16,
                            void* v_pool_f16, const int32_t* token_seq, const int32_t* token_pos,
                            const int32_t* block_tables, int max_blocks, int block_size, int heads, int kv_heads,
                            int head_dim, const float* inv_freq, int rope_style, int x_order,
                            qspec_stream_t stream);

/* Causal attention over the paged cache for T query tokens; out fp16 [T, heads*head_dim].
 * workspace (device memory, may be NULL): when it holds at least
 * qspec_attention_workspace_bytes(T, heads, head_dim, max_blocks * block_size) bytes and the pass has
 * few (token, head) pairs, long contexts are split over more blocks. The result has the same bits
 * either way, and a token's result does not depend on the other tokens of the pass.
 * Prefill tiles: a token whose sequence has at least 64 consecutive tokens in the pass (a prompt's prefill; never a
 * decode token or a verify run of up to 16) is computed on the tensor cores, 64 queries a block, for head_dim 64 or
 * 128 on sm_80 and later (QSPEC_ATTENTION_PREFILL_TILES=0 turns them off; read at every call). Its result then
 * depends on its own q, position and context alone, as above, but its bits are not the row kernels'.
 * Decode tiles (ABI 11: on by default): every other token whose context holds 512 positions or more
 * (QSPEC_ATTENTION_DECODE_TILES_FROM) is computed on the tensor cores with the (token, head) pairs of its kv head, for
 * head_dim 128 with at most 16 heads a kv head; the same holds of its result, and its bits are not the row kernels'
 * either, so the setting must hold for a whole generation (QSPEC_ATTENTION_DECODE_TILES=0 turns them off, =all puts
 * every token on them; read at every call). */
int qspec_attention(const float* q, const void* k_pool_f16, const void* v_pool_f16,
                    const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                    int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim,
                    void* workspace, size_t workspace_bytes, void* out_f16, qspec_stream_t stream);

/* qspec_attention for a pass in which every sequence has `run` consecutive tokens (ABI 9; a verify pass: run = gamma
 * + 1, a prefill of prompts of one length their length; T a multiple of run), or (run = 1) no sequence has 64 tokens
 * or more (a decode pass, or a pass mixing decode and verify runs). With QSPEC_ATTENTION_RUNS set (opt-in; unset, this
 * is qspec_attention), up to 4 tokens of a run of 2-16 are computed in one block, where their K and V loads can be
 * shared; runs of 64 or more go to the prefill tiles alone, and passes of shorter runs to the row kernels alone
 * (qspec_attention would also launch the tiles, to find no long run). The result has the bits of qspec_attention for
 * the same tokens (for runs of up to 16 whatever the tokens are: each token reads its own sequence's table). workspace
 * as there, sized for T tokens. */
int qspec_attention_runs(const float* q, const void* k_pool_f16, const void* v_pool_f16,
                         const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                         int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim, int run,
                         void* workspace, size_t workspace_bytes, void* out_f16, qspec_stream_t stream);

/* qspec_attention_runs with what the caller knows of its pass's contexts (ABI 11): every token's context (its
 * position + 1) lies in [min_context, max_context] (0: unknown; the table's span bounds max_context anyway). run = 0
 * is qspec_attention (no run hint), run > 0 qspec_attention_runs. The library uses the bounds only to launch no kernel
 * that would find no token: the decode tiles (QSPEC_ATTENTION_DECODE_TILES) take the tokens whose context holds
 * qspec_attention_decode_tiles_from() positions or more, the row kernels the others, so a pass known to lie on one
 * side launches one of them. The result has the bits of qspec_attention_runs when the bounds are true; a token outside
 * them is still computed, with the arithmetic of the side its pass was said to lie on. */
int qspec_attention_pass(const float* q, const void* k_pool_f16, const void* v_pool_f16,
                         const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                         int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim, int run,
                         int min_context, int max_context, void* workspace, size_t workspace_bytes, void* out_f16,
                         qspec_stream_t stream);

/* The fewest positions a token's context must hold for the decode tiles to take it, at these heads (ABI 11;
 * QSPEC_ATTENTION_DECODE_TILES, read at every call, and QSPEC_ATTENTION_DECODE_TILES_FROM): 0 every token, -1 none
 * (the tiles are off, or the shape is not theirs). */
int qspec_attention_decode_tiles_from(int heads, int kv_heads, int head_dim);

/* Workspace bytes that let qspec_attention split contexts of up to max_context positions (0 for
 * arguments that are not positive). */
size_t qspec_attention_workspace_bytes(int T, int heads, int head_dim, int max_context);

/* RoPE, the KV write and attention in one launch (ABI 7), for passes in which every token is the only token of
 * its sequence (decode and draft passes; the caller guarantees it). qkv: the q|k|v rows of qspec_rope_write_kv
 * (stride ld >= (heads + 2 kv_heads) head_dim). Writes each token's RoPE(k) and v into the pools and returns in
 * out_f16 what qspec_rope_write_kv followed by qspec_attention returns, bit for bit; workspace as there. */
int qspec_rope_attention(const float* qkv, int ld, void* k_pool_f16, void* v_pool_f16,
                         const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables,
                         int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim,
                         const float* inv_freq, int rope_style, void* workspace, size_t workspace_bytes,
                         void* out_f16, qspec_stream_t stream);

/* out fp16 [M, H] = silu(gate) * up, its rows in out_order; gate, up fp32 rows of stride ld >= H (the fused gate|up
 * GEMM output: up = gate + H, ld = 2H). */
int qspec_swiglu_f16(const float* gate, const float* up, int ld, void* out_f16, int M, int H, int out_order,
                     qspec_stream_t stream);

/* fp32 [M, H] -> fp16 [M, H] (used when a GEMM output feeds another A16 GEMM). */
int qspec_f32_to_f16(const float* x, void* y_f16, long n, qspec_stream_t stream);

/* x += y, fp32, n elements. */
int qspec_add_inplace(float* x, const float* y, long n, qspec_stream_t stream);

/* out[m] = argmax_v logits[m, v] (ties: lowest index), logits fp32 [M, V]. */
int qspec_argmax(const float* logits, int M, int V, int32_t* out, qspec_stream_t stream);

/* ---- Sampling on the device (ABI 5): one token per draw, so only token ids cross to the host ---- */

/* One draw: a logit row and the filters of io.qspec.sampling.LogitsProcessor, applied in its order
 * (penalties, temperature, top-k, top-p, min-p), then the inverse CDF at `uniform`. 72 bytes. */
typedef struct {
    int32_t row;             /* the logit row to draw from */
    int32_t top_k;           /* 0 = off */
    int32_t history_offset;  /* first of this draw's entries in history_tokens / history_counts */
    int32_t history_length;  /* distinct history tokens (the penalties' input); 0 = none */
    double temperature;      /* 0 = the argmax of the penalized logits, lowest index on ties */
    double top_p;            /* 1 = off */
    double min_p;            /* 0 = off */
    double repetition_penalty;  /* 1 = off */
    double frequency_penalty;
    double presence_penalty;
    double uniform;          /* in [0, 1): this draw's random variate */
} qspec_draw;

/* The largest vocabulary qspec_sample, qspec_sample_keep and qspec_rejection_sample take. */
#define QSPEC_MAX_SAMPLING_VOCAB (1 << 20)

/* Workspace bytes qspec_sample needs for n_draws draws over a vocabulary of V. */
size_t qspec_sample_workspace_bytes(int n_draws, int V);

/* tokens_out[d] = the token drawn for draws[d] (all device memory); above temperature 0, -1 when its
 * row holds a NaN and -2 when every logit is -inf (no token possible); at temperature 0 the argmax
 * (NaN never wins). history_tokens must be distinct and in [0, V) within each draw (the caller
 * checks). Weights are fp32 exp((l - max) / T); every mass is summed in 2^-40 fixed point, so a draw
 * gives the same token on every run; ties at the top-k and top-p thresholds go to the lowest index,
 * as the host's sort puts them. */
int qspec_sample(const float* logits, int ld, int V, const qspec_draw* draws, int n_draws,
                 const int32_t* history_tokens, const int32_t* history_counts, void* workspace,
                 size_t workspace_bytes, int32_t* tokens_out, qspec_stream_t stream);

/* ---- Rejection sampling of speculative rounds on the device (ABI 6) ---- */

/* As qspec_sample, and keeps each draw's distribution for qspec_rejection_sample: draw d's filtered
 * weights (max 1) go to row slots[d] of `kept` (V floats a slot) and their 2^-40 fixed-point total
 * to kept_totals[slots[d]]; 0 when no distribution can be formed (NaN, every logit -inf). A greedy
 * draw keeps the one-hot distribution of its token. Slots must be distinct and inside `kept` (the
 * caller checks). */
int qspec_sample_keep(const float* logits, int ld, int V, const qspec_draw* draws, int n_draws,
                      const int32_t* history_tokens, const int32_t* history_counts, const int32_t* slots,
                      float* kept, unsigned long long* kept_totals, int32_t* tokens_out, qspec_stream_t stream);

/* One lane of a round: gamma drafts; draft_tokens / draft_slots from draft_offset (gamma entries:
 * draft i's token and the slot of the distribution q_i it was drawn from), verify_slots / uniforms
 * from verify_offset (gamma + 1 entries: the slot of the verify distribution p_i, and u_i). 16 bytes. */
typedef struct {
    int32_t gamma;
    int32_t draft_offset;
    int32_t verify_offset;
    int32_t reserved;
} qspec_rejection;

/* io.qspec.accept.RejectionSamplingAcceptance.decide for each lane, over kept distributions: draft i
 * is accepted iff u_i * q_i(x_i) < p_i(x_i) (q_i(x_i) = 0: iff p_i(x_i) > 0); at the first rejection
 * the next token is drawn with u_gamma from max(0, p_i - q_i) (from p_i where that is all zero), and
 * after gamma acceptances from p_gamma. accepted_out = drafts kept, next_out = the recovered or bonus
 * token, or -1 when one of the lane's distributions could not be formed. Masses in 2^-40 fixed point:
 * the same round gives the same tokens on every run. */
int qspec_rejection_sample(const float* kept, const unsigned long long* kept_totals, int V,
                           const qspec_rejection* lanes, int n_lanes, const int32_t* draft_tokens,
                           const int32_t* draft_slots, const int32_t* verify_slots, const double* uniforms,
                           int32_t* accepted_out, int32_t* next_out, qspec_stream_t stream);

#ifdef __cplusplus
}
#endif

#endif
