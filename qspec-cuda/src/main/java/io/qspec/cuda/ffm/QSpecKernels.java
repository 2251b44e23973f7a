package io.qspec.cuda.ffm;

import static io.qspec.cuda.ffm.Bindings.C_FLOAT;
import static io.qspec.cuda.ffm.Bindings.C_INT;
import static io.qspec.cuda.ffm.Bindings.C_LONG;
import static io.qspec.cuda.ffm.Bindings.C_POINTER;

import io.qspec.backend.BackendUnavailableException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * FFM bindings to {@code libqspec_cuda.so}, one method per function of {@code native/include/qspec_cuda.h}
 * (see that header for the INT4 layout, the activation formats and the paged KV cache). Every function
 * is asynchronous on {@code stream} and returns 0, a {@code cudaError_t}, or {@link #QSPEC_ERR_UNSUPPORTED}.
 * The kernels trust their arguments: callers validate sizes first (see {@code io.qspec.cuda.KernelArguments}).
 */
public final class QSpecKernels {
    private QSpecKernels() {
    }

    /** The ABI version these bindings were written against ({@code qspec_abi_version()}). */
    public static final int ABI_VERSION = 13;
    /** {@code QSPEC_MAX_SAMPLING_VOCAB}: the largest vocabulary the sampling kernels take. */
    public static final int MAX_SAMPLING_VOCAB = 1 << 20;
    /** Returned for an argument combination the kernels do not support. */
    public static final int QSPEC_ERR_UNSUPPORTED = 10001;
    /** Token orders of the GEMMs' inputs ({@code x_order}, {@code out_order}; ABI 13): row order, and each 128-input step
     * of a row in the order the sm_90a warpgroup kernels' MMAs read ({@link #qspec_tokens_order}). */
    public static final int QSPEC_TOKENS_ROW = 0;
    public static final int QSPEC_TOKENS_MMA = 1;
    /** {@code rope_style} values. */
    public static final int ROPE_INTERLEAVED = 0;
    public static final int ROPE_HALF_SPLIT = 1;

    private static final Bindings.LazyLibrary LIBRARY = new Bindings.LazyLibrary(KernelLibraryLoader::load);

    /** The loaded library; throws {@link io.qspec.backend.BackendUnavailableException} when it is not found. */
    public static NativeLibrary library() {
        return LIBRARY.get();
    }

    public static final FunctionDescriptor qspec_abi_version$DESC = FunctionDescriptor.of(C_INT);
    public static final FunctionDescriptor qspec_tokens_order$DESC = FunctionDescriptor.of(C_INT,
            C_INT, C_INT, C_INT, C_INT, C_INT);
    public static final FunctionDescriptor qspec_w4a16_gemm$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_quantize_activations$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_w4ax_gemm$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_INT,
            C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_w4a16_gemm_add_rmsnorm$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_FLOAT,
            C_POINTER, C_POINTER, C_POINTER);
    public static final FunctionDescriptor qspec_w4ax_gemm_add_rmsnorm_quantize$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER,
            C_FLOAT, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER);
    public static final FunctionDescriptor qspec_w4a16_gemm_swiglu$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_INT, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_rmsnorm_w4a16_gemm$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_FLOAT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT,
            C_POINTER);
    public static final FunctionDescriptor qspec_rmsnorm_w4a16_gemm_swiglu$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_FLOAT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT,
            C_POINTER, C_POINTER);
    public static final FunctionDescriptor qspec_rmsnorm_quantize_w4ax_gemm$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_FLOAT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT,
            C_INT, C_INT, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_dequantize_int4$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_POINTER, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_embedding$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_rmsnorm_f16$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_FLOAT, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_rmsnorm_quantize$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_FLOAT, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_rope_write_kv$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER,
            C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_w4a16_gemm_rope_kv$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_POINTER, C_POINTER, C_POINTER,
            C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_INT, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_w4ax_gemm_rope_kv$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_POINTER,
            C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_INT, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_attention$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER,
            C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_LONG, C_POINTER, C_POINTER);
    public static final FunctionDescriptor qspec_attention_runs$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER,
            C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_LONG, C_POINTER, C_POINTER);
    public static final FunctionDescriptor qspec_attention_pass$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER,
            C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_LONG, C_POINTER, C_POINTER);
    public static final FunctionDescriptor qspec_attention_decode_tiles_from$DESC = FunctionDescriptor.of(C_INT,
            C_INT, C_INT, C_INT);
    public static final FunctionDescriptor qspec_attention_workspace_bytes$DESC = FunctionDescriptor.of(C_LONG,
            C_INT, C_INT, C_INT, C_INT);
    public static final FunctionDescriptor qspec_rope_attention$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER,
            C_INT, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_INT, C_POINTER, C_LONG, C_POINTER, C_POINTER);
    public static final FunctionDescriptor qspec_swiglu_quantize$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_swiglu_f16$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_INT, C_POINTER, C_INT, C_INT, C_INT, C_POINTER);
    public static final FunctionDescriptor qspec_f32_to_f16$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_LONG, C_POINTER);
    public static final FunctionDescriptor qspec_add_inplace$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_LONG, C_POINTER);
    public static final FunctionDescriptor qspec_argmax$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_INT, C_INT, C_POINTER, C_POINTER);
    public static final FunctionDescriptor qspec_sample_workspace_bytes$DESC = FunctionDescriptor.of(C_LONG,
            C_INT, C_INT);
    public static final FunctionDescriptor qspec_sample$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_INT, C_INT, C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_LONG, C_POINTER, C_POINTER);
    public static final FunctionDescriptor qspec_sample_keep$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_INT, C_INT, C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER,
            C_POINTER);
    public static final FunctionDescriptor qspec_rejection_sample$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_POINTER, C_INT, C_POINTER, C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER,
            C_POINTER);

    /** The version alone, so that a library of another version is told apart before its other symbols are linked. */
    private static final class AbiHandle {
        static final MethodHandle qspec_abi_version = library().downcall("qspec_abi_version", qspec_abi_version$DESC);
    }

    private static final class Handles {
        static final NativeLibrary LIB = library();
        static final MethodHandle qspec_tokens_order = LIB.downcall("qspec_tokens_order", qspec_tokens_order$DESC);
        static final MethodHandle qspec_w4a16_gemm = LIB.downcall("qspec_w4a16_gemm", qspec_w4a16_gemm$DESC);
        static final MethodHandle qspec_quantize_activations = LIB.downcall("qspec_quantize_activations", qspec_quantize_activations$DESC);
        static final MethodHandle qspec_w4ax_gemm = LIB.downcall("qspec_w4ax_gemm", qspec_w4ax_gemm$DESC);
        static final MethodHandle qspec_w4a16_gemm_add_rmsnorm = LIB.downcall("qspec_w4a16_gemm_add_rmsnorm",
                qspec_w4a16_gemm_add_rmsnorm$DESC);
        static final MethodHandle qspec_w4ax_gemm_add_rmsnorm_quantize = LIB.downcall(
                "qspec_w4ax_gemm_add_rmsnorm_quantize", qspec_w4ax_gemm_add_rmsnorm_quantize$DESC);
        static final MethodHandle qspec_w4a16_gemm_swiglu = LIB.downcall("qspec_w4a16_gemm_swiglu",
                qspec_w4a16_gemm_swiglu$DESC);
        static final MethodHandle qspec_rmsnorm_w4a16_gemm = LIB.downcall("qspec_rmsnorm_w4a16_gemm",
                qspec_rmsnorm_w4a16_gemm$DESC);
        static final MethodHandle qspec_rmsnorm_w4a16_gemm_swiglu = LIB.downcall("qspec_rmsnorm_w4a16_gemm_swiglu",
                qspec_rmsnorm_w4a16_gemm_swiglu$DESC);
        static final MethodHandle qspec_rmsnorm_quantize_w4ax_gemm = LIB.downcall("qspec_rmsnorm_quantize_w4ax_gemm",
                qspec_rmsnorm_quantize_w4ax_gemm$DESC);
        static final MethodHandle qspec_embedding = LIB.downcall("qspec_embedding", qspec_embedding$DESC);
        static final MethodHandle qspec_rmsnorm_f16 = LIB.downcall("qspec_rmsnorm_f16", qspec_rmsnorm_f16$DESC);
        static final MethodHandle qspec_rmsnorm_quantize = LIB.downcall("qspec_rmsnorm_quantize", qspec_rmsnorm_quantize$DESC);
        static final MethodHandle qspec_rope_write_kv = LIB.downcall("qspec_rope_write_kv", qspec_rope_write_kv$DESC);
        static final MethodHandle qspec_w4a16_gemm_rope_kv = LIB.downcall("qspec_w4a16_gemm_rope_kv",
                qspec_w4a16_gemm_rope_kv$DESC);
        static final MethodHandle qspec_w4ax_gemm_rope_kv = LIB.downcall("qspec_w4ax_gemm_rope_kv",
                qspec_w4ax_gemm_rope_kv$DESC);
        static final MethodHandle qspec_attention = LIB.downcall("qspec_attention", qspec_attention$DESC);
        static final MethodHandle qspec_attention_runs = LIB.downcall("qspec_attention_runs", qspec_attention_runs$DESC);
        static final MethodHandle qspec_attention_pass = LIB.downcall("qspec_attention_pass", qspec_attention_pass$DESC);
        static final MethodHandle qspec_attention_decode_tiles_from = LIB.downcall("qspec_attention_decode_tiles_from",
                qspec_attention_decode_tiles_from$DESC);
        static final MethodHandle qspec_attention_workspace_bytes = LIB.downcall("qspec_attention_workspace_bytes",
                qspec_attention_workspace_bytes$DESC);
        static final MethodHandle qspec_rope_attention = LIB.downcall("qspec_rope_attention", qspec_rope_attention$DESC);
        static final MethodHandle qspec_swiglu_f16 = LIB.downcall("qspec_swiglu_f16", qspec_swiglu_f16$DESC);
        static final MethodHandle qspec_swiglu_quantize = LIB.downcall("qspec_swiglu_quantize", qspec_swiglu_quantize$DESC);
        static final MethodHandle qspec_f32_to_f16 = LIB.downcall("qspec_f32_to_f16", qspec_f32_to_f16$DESC);
        static final MethodHandle qspec_add_inplace = LIB.downcall("qspec_add_inplace", qspec_add_inplace$DESC);
        static final MethodHandle qspec_argmax = LIB.downcall("qspec_argmax", qspec_argmax$DESC);
        static final MethodHandle qspec_sample_workspace_bytes = LIB.downcall("qspec_sample_workspace_bytes",
                qspec_sample_workspace_bytes$DESC);
        static final MethodHandle qspec_sample = LIB.downcall("qspec_sample", qspec_sample$DESC);
        static final MethodHandle qspec_sample_keep = LIB.downcall("qspec_sample_keep", qspec_sample_keep$DESC);
        static final MethodHandle qspec_rejection_sample = LIB.downcall("qspec_rejection_sample", qspec_rejection_sample$DESC);
    }

    /**
     * Functions added to ABI version 1 after its first libraries were built, linked on first use: a library
     * without them still serves every other function, and the missing one fails with a message, not a
     * class initialization error.
     */
    private static final class AddedHandles {
        static final Optional<MethodHandle> qspec_dequantize_int4 = library().firstDowncall(qspec_dequantize_int4$DESC,
                "qspec_dequantize_int4");
    }

    private static MethodHandle added(Optional<MethodHandle> handle, String symbol) {
        return handle.orElseThrow(() -> new BackendUnavailableException(library().description() + " ("
                + library().origin() + ") has no " + symbol + ": it was built from older native/ sources; rebuild it"));
    }

    /** {@code int qspec_abi_version(void)} */
    public static int qspec_abi_version() {
        try {
            return (int) AbiHandle.qspec_abi_version.invokeExact();
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_tokens_order(int bits, int M, int N, int K, int group)} */
    public static int qspec_tokens_order(int bits, int m, int n, int k, int group) {
        try {
            return (int) Handles.qspec_tokens_order.invokeExact(bits, m, n, k, group);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_w4a16_gemm(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16, float* y, int ldy, int M, int N, int K, int group, int accumulate, int x_order, qspec_stream_t stream)} */
    public static int qspec_w4a16_gemm(MemorySegment x, int ldx, MemorySegment wPacked, MemorySegment wScales,
                                       MemorySegment y, int ldy, int m, int n, int k, int group, int accumulate,
                                       int xOrder, MemorySegment stream) {
        try {
            return (int) Handles.qspec_w4a16_gemm.invokeExact(x, ldx, wPacked, wScales, y, ldy, m, n, k, group, accumulate,
                    xOrder, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_quantize_activations(const void* x_f16, int ldx, int M, int K, int group, int bits, int8_t* xq, float* xscale, int out_order, qspec_stream_t stream)} */
    public static int qspec_quantize_activations(MemorySegment x, int ldx, int m, int k, int group, int bits,
                                                 MemorySegment xq, MemorySegment xscale, int outOrder, MemorySegment stream) {
        try {
            return (int) Handles.qspec_quantize_activations.invokeExact(x, ldx, m, k, group, bits, xq, xscale, outOrder, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_w4ax_gemm(const int8_t* xq, const float* xscale, const uint8_t* w_packed, const void* w_scales_f16, float* y, int ldy, int M, int N, int K, int group, int bits, int accumulate, int x_order, qspec_stream_t stream)} */
    public static int qspec_w4ax_gemm(MemorySegment xq, MemorySegment xscale, MemorySegment wPacked, MemorySegment wScales,
                                      MemorySegment y, int ldy, int m, int n, int k, int group, int bits, int accumulate,
                                      int xOrder, MemorySegment stream) {
        try {
            return (int) Handles.qspec_w4ax_gemm.invokeExact(xq, xscale, wPacked, wScales, y, ldy, m, n, k, group, bits,
                    accumulate, xOrder, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_dequantize_int4(const uint8_t* w_packed, const void* w_scales_f16, int N, int K, int group, void* out_f16, int ldo, qspec_stream_t stream)} */
    public static int qspec_dequantize_int4(MemorySegment wPacked, MemorySegment wScales, int n, int k, int group,
                                            MemorySegment out, int ldo, MemorySegment stream) {
        MethodHandle handle = added(AddedHandles.qspec_dequantize_int4, "qspec_dequantize_int4");
        try {
            return (int) handle.invokeExact(wPacked, wScales, n, k, group, out, ldo, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_embedding(const int32_t* tokens, const void* table_f16, float* x, int T, int dim, qspec_stream_t stream)} */
    public static int qspec_embedding(MemorySegment tokens, MemorySegment table, MemorySegment x, int t, int dim,
                                      MemorySegment stream) {
        try {
            return (int) Handles.qspec_embedding.invokeExact(tokens, table, x, t, dim, stream);
        } catch (Throwable t2) {
            throw Bindings.unexpected(t2);
        }
    }

    /** {@code int qspec_rmsnorm_f16(const float* x, const float* w, void* y_f16, int M, int D, float eps, int out_order, qspec_stream_t stream)} */
    public static int qspec_rmsnorm_f16(MemorySegment x, MemorySegment w, MemorySegment y, int m, int d, float eps,
                                        int outOrder, MemorySegment stream) {
        try {
            return (int) Handles.qspec_rmsnorm_f16.invokeExact(x, w, y, m, d, eps, outOrder, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_w4a16_gemm_add_rmsnorm(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16, float* y, int M, int N, int K, int group, const float* norm_w, float eps, void* out_f16, unsigned* ticket, qspec_stream_t stream)} */
    public static int qspec_w4a16_gemm_add_rmsnorm(MemorySegment x, int ldx, MemorySegment wPacked, MemorySegment wScales,
                                                   MemorySegment y, int m, int n, int k, int group, MemorySegment normW,
                                                   float eps, MemorySegment out, MemorySegment ticket,
                                                   MemorySegment stream) {
        try {
            return (int) Handles.qspec_w4a16_gemm_add_rmsnorm.invokeExact(x, ldx, wPacked, wScales, y, m, n, k, group,
                    normW, eps, out, ticket, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_w4ax_gemm_add_rmsnorm_quantize(const int8_t* xq, const float* xscale, const uint8_t* w_packed, const void* w_scales_f16, float* y, int M, int N, int K, int group, int bits, const float* norm_w, float eps, int out_group, int8_t* out_q, float* out_scale, unsigned* ticket, qspec_stream_t stream)} */
    public static int qspec_w4ax_gemm_add_rmsnorm_quantize(MemorySegment xq, MemorySegment xscale, MemorySegment wPacked,
                                                           MemorySegment wScales, MemorySegment y, int m, int n, int k,
                                                           int group, int bits, MemorySegment normW, float eps,
                                                           int outGroup, MemorySegment outQ, MemorySegment outScale,
                                                           MemorySegment ticket, MemorySegment stream) {
        try {
            return (int) Handles.qspec_w4ax_gemm_add_rmsnorm_quantize.invokeExact(xq, xscale, wPacked, wScales, y, m, n,
                    k, group, bits, normW, eps, outGroup, outQ, outScale, ticket, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_w4a16_gemm_swiglu(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16, float* gate_up, int M, int H, int K, int group, void* out_f16, int x_order, int out_order, qspec_stream_t stream)} */
    public static int qspec_w4a16_gemm_swiglu(MemorySegment x, int ldx, MemorySegment wPacked, MemorySegment wScales,
                                              MemorySegment gateUp, int m, int h, int k, int group, MemorySegment out,
                                              int xOrder, int outOrder, MemorySegment stream) {
        try {
            return (int) Handles.qspec_w4a16_gemm_swiglu.invokeExact(x, ldx, wPacked, wScales, gateUp, m, h, k, group, out,
                    xOrder, outOrder, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_rmsnorm_w4a16_gemm(const float* r, const float* norm_w, float eps, void* normed_f16, const uint8_t* w_packed, const void* w_scales_f16, float* y, int ldy, int M, int N, int K, int group, qspec_stream_t stream)} */
    public static int qspec_rmsnorm_w4a16_gemm(MemorySegment r, MemorySegment normW, float eps, MemorySegment normed,
                                               MemorySegment wPacked, MemorySegment wScales, MemorySegment y, int ldy,
                                               int m, int n, int k, int group, MemorySegment stream) {
        try {
            return (int) Handles.qspec_rmsnorm_w4a16_gemm.invokeExact(r, normW, eps, normed, wPacked, wScales, y, ldy, m,
                    n, k, group, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_rmsnorm_w4a16_gemm_swiglu(const float* r, const float* norm_w, float eps, void* normed_f16, const uint8_t* w_packed, const void* w_scales_f16, float* gate_up, int M, int H, int K, int group, void* out_f16, qspec_stream_t stream)} */
    public static int qspec_rmsnorm_w4a16_gemm_swiglu(MemorySegment r, MemorySegment normW, float eps,
                                                      MemorySegment normed, MemorySegment wPacked, MemorySegment wScales,
                                                      MemorySegment gateUp, int m, int h, int k, int group,
                                                      MemorySegment out, MemorySegment stream) {
        try {
            return (int) Handles.qspec_rmsnorm_w4a16_gemm_swiglu.invokeExact(r, normW, eps, normed, wPacked, wScales,
                    gateUp, m, h, k, group, out, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_rmsnorm_quantize_w4ax_gemm(const float* r, const float* norm_w, float eps, int8_t* normed_q, float* normed_scale, const uint8_t* w_packed, const void* w_scales_f16, float* y, int ldy, int M, int N, int K, int group, int bits, qspec_stream_t stream)} */
    public static int qspec_rmsnorm_quantize_w4ax_gemm(MemorySegment r, MemorySegment normW, float eps,
                                                       MemorySegment normedQ, MemorySegment normedScale,
                                                       MemorySegment wPacked, MemorySegment wScales, MemorySegment y,
                                                       int ldy, int m, int n, int k, int group, int bits,
                                                       MemorySegment stream) {
        try {
            return (int) Handles.qspec_rmsnorm_quantize_w4ax_gemm.invokeExact(r, normW, eps, normedQ, normedScale, wPacked,
                    wScales, y, ldy, m, n, k, group, bits, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_rmsnorm_quantize(const float* x, const float* w, int8_t* xq, float* xscale, int M, int D, int group, int bits, float eps, int out_order, qspec_stream_t stream)} */
    public static int qspec_rmsnorm_quantize(MemorySegment x, MemorySegment w, MemorySegment xq, MemorySegment xscale,
                                             int m, int d, int group, int bits, float eps, int outOrder, MemorySegment stream) {
        try {
            return (int) Handles.qspec_rmsnorm_quantize.invokeExact(x, w, xq, xscale, m, d, group, bits, eps, outOrder, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_rope_write_kv(const float* q, const float* k, const float* v, int ld, float* q_out, void* k_pool_f16, void* v_pool_f16, const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim, const float* inv_freq, int rope_style, qspec_stream_t stream)} */
    public static int qspec_rope_write_kv(MemorySegment q, MemorySegment k, MemorySegment v, int ld, MemorySegment qOut,
                                          MemorySegment kPool, MemorySegment vPool, MemorySegment tokenSeq,
                                          MemorySegment tokenPos, MemorySegment blockTables, int maxBlocks, int blockSize,
                                          int t, int heads, int kvHeads, int headDim, MemorySegment invFreq, int ropeStyle,
                                          MemorySegment stream) {
        try {
            return (int) Handles.qspec_rope_write_kv.invokeExact(q, k, v, ld, qOut, kPool, vPool, tokenSeq, tokenPos,
                    blockTables, maxBlocks, blockSize, t, heads, kvHeads, headDim, invFreq, ropeStyle, stream);
        } catch (Throwable t2) {
            throw Bindings.unexpected(t2);
        }
    }

    /** {@code int qspec_w4a16_gemm_rope_kv(const void* x_f16, int ldx, const uint8_t* w_packed, const void* w_scales_f16, float* qkv, int M, int K, int group, float* q_out, void* k_pool_f16, void* v_pool_f16, const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int heads, int kv_heads, int head_dim, const float* inv_freq, int rope_style, int x_order, qspec_stream_t stream)} */
    public static int qspec_w4a16_gemm_rope_kv(MemorySegment x, int ldx, MemorySegment wPacked, MemorySegment wScales,
                                               MemorySegment qkv, int m, int k, int group, MemorySegment qOut,
                                               MemorySegment kPool, MemorySegment vPool, MemorySegment tokenSeq,
                                               MemorySegment tokenPos, MemorySegment blockTables, int maxBlocks,
                                               int blockSize, int heads, int kvHeads, int headDim, MemorySegment invFreq,
                                               int ropeStyle, int xOrder, MemorySegment stream) {
        try {
            return (int) Handles.qspec_w4a16_gemm_rope_kv.invokeExact(x, ldx, wPacked, wScales, qkv, m, k, group, qOut,
                    kPool, vPool, tokenSeq, tokenPos, blockTables, maxBlocks, blockSize, heads, kvHeads, headDim, invFreq,
                    ropeStyle, xOrder, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_w4ax_gemm_rope_kv(const int8_t* xq, const float* xscale, const uint8_t* w_packed, const void* w_scales_f16, float* qkv, int M, int K, int group, int bits, float* q_out, void* k_pool_f16, void* v_pool_f16, const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int heads, int kv_heads, int head_dim, const float* inv_freq, int rope_style, int x_order, qspec_stream_t stream)} */
    public static int qspec_w4ax_gemm_rope_kv(MemorySegment xq, MemorySegment xscale, MemorySegment wPacked,
                                              MemorySegment wScales, MemorySegment qkv, int m, int k, int group, int bits,
                                              MemorySegment qOut, MemorySegment kPool, MemorySegment vPool,
                                              MemorySegment tokenSeq, MemorySegment tokenPos, MemorySegment blockTables,
                                              int maxBlocks, int blockSize, int heads, int kvHeads, int headDim,
                                              MemorySegment invFreq, int ropeStyle, int xOrder, MemorySegment stream) {
        try {
            return (int) Handles.qspec_w4ax_gemm_rope_kv.invokeExact(xq, xscale, wPacked, wScales, qkv, m, k, group, bits,
                    qOut, kPool, vPool, tokenSeq, tokenPos, blockTables, maxBlocks, blockSize, heads, kvHeads, headDim,
                    invFreq, ropeStyle, xOrder, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_attention(const float* q, const void* k_pool_f16, const void* v_pool_f16, const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim, void* workspace, size_t workspace_bytes, void* out_f16, qspec_stream_t stream)} */
    public static int qspec_attention(MemorySegment q, MemorySegment kPool, MemorySegment vPool, MemorySegment tokenSeq,
                                      MemorySegment tokenPos, MemorySegment blockTables, int maxBlocks, int blockSize,
                                      int t, int heads, int kvHeads, int headDim, MemorySegment workspace,
                                      long workspaceBytes, MemorySegment out, MemorySegment stream) {
        try {
            return (int) Handles.qspec_attention.invokeExact(q, kPool, vPool, tokenSeq, tokenPos, blockTables, maxBlocks,
                    blockSize, t, heads, kvHeads, headDim, workspace, workspaceBytes, out, stream);
        } catch (Throwable t2) {
            throw Bindings.unexpected(t2);
        }
    }

    /** {@code int qspec_attention_runs(const float* q, const void* k_pool_f16, const void* v_pool_f16, const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim, int run, void* workspace, size_t workspace_bytes, void* out_f16, qspec_stream_t stream)} */
    public static int qspec_attention_runs(MemorySegment q, MemorySegment kPool, MemorySegment vPool,
                                           MemorySegment tokenSeq, MemorySegment tokenPos, MemorySegment blockTables,
                                           int maxBlocks, int blockSize, int t, int heads, int kvHeads, int headDim,
                                           int run, MemorySegment workspace, long workspaceBytes, MemorySegment out,
                                           MemorySegment stream) {
        try {
            return (int) Handles.qspec_attention_runs.invokeExact(q, kPool, vPool, tokenSeq, tokenPos, blockTables,
                    maxBlocks, blockSize, t, heads, kvHeads, headDim, run, workspace, workspaceBytes, out, stream);
        } catch (Throwable t2) {
            throw Bindings.unexpected(t2);
        }
    }

    /** {@code int qspec_attention_pass(const float* q, const void* k_pool_f16, const void* v_pool_f16, const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim, int run, int min_context, int max_context, void* workspace, size_t workspace_bytes, void* out_f16, qspec_stream_t stream)} */
    public static int qspec_attention_pass(MemorySegment q, MemorySegment kPool, MemorySegment vPool,
                                           MemorySegment tokenSeq, MemorySegment tokenPos, MemorySegment blockTables,
                                           int maxBlocks, int blockSize, int t, int heads, int kvHeads, int headDim,
                                           int run, int minContext, int maxContext, MemorySegment workspace,
                                           long workspaceBytes, MemorySegment out, MemorySegment stream) {
        try {
            return (int) Handles.qspec_attention_pass.invokeExact(q, kPool, vPool, tokenSeq, tokenPos, blockTables,
                    maxBlocks, blockSize, t, heads, kvHeads, headDim, run, minContext, maxContext, workspace,
                    workspaceBytes, out, stream);
        } catch (Throwable t2) {
            throw Bindings.unexpected(t2);
        }
    }

    /** {@code int qspec_attention_decode_tiles_from(int heads, int kv_heads, int head_dim)} */
    public static int qspec_attention_decode_tiles_from(int heads, int kvHeads, int headDim) {
        try {
            return (int) Handles.qspec_attention_decode_tiles_from.invokeExact(heads, kvHeads, headDim);
        } catch (Throwable t2) {
            throw Bindings.unexpected(t2);
        }
    }

    /** {@code int qspec_rope_attention(const float* qkv, int ld, void* k_pool_f16, void* v_pool_f16, const int32_t* token_seq, const int32_t* token_pos, const int32_t* block_tables, int max_blocks, int block_size, int T, int heads, int kv_heads, int head_dim, const float* inv_freq, int rope_style, void* workspace, size_t workspace_bytes, void* out_f16, qspec_stream_t stream)} */
    public static int qspec_rope_attention(MemorySegment qkv, int ld, MemorySegment kPool, MemorySegment vPool,
                                           MemorySegment tokenSeq, MemorySegment tokenPos, MemorySegment blockTables,
                                           int maxBlocks, int blockSize, int t, int heads, int kvHeads, int headDim,
                                           MemorySegment invFreq, int ropeStyle, MemorySegment workspace,
                                           long workspaceBytes, MemorySegment out, MemorySegment stream) {
        try {
            return (int) Handles.qspec_rope_attention.invokeExact(qkv, ld, kPool, vPool, tokenSeq, tokenPos, blockTables,
                    maxBlocks, blockSize, t, heads, kvHeads, headDim, invFreq, ropeStyle, workspace, workspaceBytes, out,
                    stream);
        } catch (Throwable t2) {
            throw Bindings.unexpected(t2);
        }
    }

    /** {@code size_t qspec_attention_workspace_bytes(int T, int heads, int head_dim, int max_context)} */
    public static long qspec_attention_workspace_bytes(int t, int heads, int headDim, int maxContext) {
        try {
            return (long) Handles.qspec_attention_workspace_bytes.invokeExact(t, heads, headDim, maxContext);
        } catch (Throwable t2) {
            throw Bindings.unexpected(t2);
        }
    }

    /** {@code int qspec_swiglu_quantize(const float* gate, const float* up, int ld, int M, int H, int group, int bits, int8_t* xq, float* xscale, int out_order, qspec_stream_t stream)} */
    public static int qspec_swiglu_quantize(MemorySegment gate, MemorySegment up, int ld, int m, int h, int group, int bits,
                                            MemorySegment xq, MemorySegment xscale, int outOrder, MemorySegment stream) {
        try {
            return (int) Handles.qspec_swiglu_quantize.invokeExact(gate, up, ld, m, h, group, bits, xq, xscale, outOrder, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_swiglu_f16(const float* gate, const float* up, int ld, void* out_f16, int M, int H, int out_order, qspec_stream_t stream)} */
    public static int qspec_swiglu_f16(MemorySegment gate, MemorySegment up, int ld, MemorySegment out, int m, int h,
                                       int outOrder, MemorySegment stream) {
        try {
            return (int) Handles.qspec_swiglu_f16.invokeExact(gate, up, ld, out, m, h, outOrder, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_f32_to_f16(const float* x, void* y_f16, long n, qspec_stream_t stream)} */
    public static int qspec_f32_to_f16(MemorySegment x, MemorySegment y, long n, MemorySegment stream) {
        try {
            return (int) Handles.qspec_f32_to_f16.invokeExact(x, y, n, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_add_inplace(float* x, const float* y, long n, qspec_stream_t stream)} */
    public static int qspec_add_inplace(MemorySegment x, MemorySegment y, long n, MemorySegment stream) {
        try {
            return (int) Handles.qspec_add_inplace.invokeExact(x, y, n, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code int qspec_argmax(const float* logits, int M, int V, int32_t* out, qspec_stream_t stream)} */
    public static int qspec_argmax(MemorySegment logits, int m, int v, MemorySegment out, MemorySegment stream) {
        try {
            return (int) Handles.qspec_argmax.invokeExact(logits, m, v, out, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code size_t qspec_sample_workspace_bytes(int n_draws, int V)} */
    public static long qspec_sample_workspace_bytes(int nDraws, int v) {
        try {
            return (long) Handles.qspec_sample_workspace_bytes.invokeExact(nDraws, v);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /**
     * {@code int qspec_sample(const float* logits, int ld, int V, const qspec_draw* draws, int n_draws,
     * const int32_t* history_tokens, const int32_t* history_counts, void* workspace, size_t workspace_bytes,
     * int32_t* tokens_out, qspec_stream_t stream)}
     */
    public static int qspec_sample(MemorySegment logits, int ld, int v, MemorySegment draws, int nDraws,
                                   MemorySegment historyTokens, MemorySegment historyCounts, MemorySegment workspace,
                                   long workspaceBytes, MemorySegment tokensOut, MemorySegment stream) {
        try {
            return (int) Handles.qspec_sample.invokeExact(logits, ld, v, draws, nDraws, historyTokens, historyCounts,
                    workspace, workspaceBytes, tokensOut, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /**
     * {@code int qspec_sample_keep(const float* logits, int ld, int V, const qspec_draw* draws, int n_draws,
     * const int32_t* history_tokens, const int32_t* history_counts, const int32_t* slots, float* kept,
     * unsigned long long* kept_totals, int32_t* tokens_out, qspec_stream_t stream)}
     */
    public static int qspec_sample_keep(MemorySegment logits, int ld, int v, MemorySegment draws, int nDraws,
                                        MemorySegment historyTokens, MemorySegment historyCounts, MemorySegment slots,
                                        MemorySegment kept, MemorySegment keptTotals, MemorySegment tokensOut,
                                        MemorySegment stream) {
        try {
            return (int) Handles.qspec_sample_keep.invokeExact(logits, ld, v, draws, nDraws, historyTokens, historyCounts,
                    slots, kept, keptTotals, tokensOut, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /**
     * {@code int qspec_rejection_sample(const float* kept, const unsigned long long* kept_totals, int V,
     * const qspec_rejection* lanes, int n_lanes, const int32_t* draft_tokens, const int32_t* draft_slots,
     * const int32_t* verify_slots, const double* uniforms, int32_t* accepted_out, int32_t* next_out,
     * qspec_stream_t stream)}
     */
    public static int qspec_rejection_sample(MemorySegment kept, MemorySegment keptTotals, int v, MemorySegment lanes,
                                             int nLanes, MemorySegment draftTokens, MemorySegment draftSlots,
                                             MemorySegment verifySlots, MemorySegment uniforms, MemorySegment acceptedOut,
                                             MemorySegment nextOut, MemorySegment stream) {
        try {
            return (int) Handles.qspec_rejection_sample.invokeExact(kept, keptTotals, v, lanes, nLanes, draftTokens,
                    draftSlots, verifySlots, uniforms, acceptedOut, nextOut, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }
}
