package io.qspec.format;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;

/**
 * llama.cpp's ggml, the reference implementation of GGUF and its block types, reached with FFM from the native
 * library that the {@code de.kherud:llama} test dependency carries for linux-x86_64 (loaded with {@code dlopen}, so
 * none of that library's JNI code runs). Tests use its quantizer and {@code dequantize_row_*} functions as the
 * reference for {@link TensorDecoding}, and its GGUF writer ({@link Writer}) to produce the k-quant files that the
 * loader tests read, so that those files are written by llama.cpp and not by us.
 */
public final class LlamaCpp {
    private static final String LIBRARY = "de/kherud/llama/Linux/x86_64/libjllama.so";
    private static final Linker LINKER = Linker.nativeLinker();
    private static final ValueLayout.OfLong SIZE_T = ValueLayout.JAVA_LONG;
    private static final StructLayout GGML_INIT_PARAMS = MemoryLayout.structLayout(
            SIZE_T.withName("mem_size"), ValueLayout.ADDRESS.withName("mem_buffer"),
            ValueLayout.JAVA_BOOLEAN.withName("no_alloc"), MemoryLayout.paddingLayout(7));
    private static final StructLayout GGUF_INIT_PARAMS = MemoryLayout.structLayout(
            ValueLayout.JAVA_BOOLEAN.withName("no_alloc"), MemoryLayout.paddingLayout(7), ValueLayout.ADDRESS.withName("ctx"));
    /** ggml's type numbers (ggml.h). */
    private static final Map<TensorType, Integer> GGML_TYPES = Map.ofEntries(
            Map.entry(TensorType.F32, 0), Map.entry(TensorType.F16, 1), Map.entry(TensorType.Q4_0, 2),
            Map.entry(TensorType.Q4_1, 3), Map.entry(TensorType.Q5_0, 6), Map.entry(TensorType.Q5_1, 7),
            Map.entry(TensorType.Q8_0, 8), Map.entry(TensorType.Q2_K, 10), Map.entry(TensorType.Q3_K, 11),
            Map.entry(TensorType.Q4_K, 12), Map.entry(TensorType.Q5_K, 13), Map.entry(TensorType.Q6_K, 14),
            Map.entry(TensorType.IQ4_NL, 20), Map.entry(TensorType.IQ4_XS, 23), Map.entry(TensorType.BF16, 30));
    private static LlamaCpp instance;

    private final SymbolLookup lookup;
    private final MethodHandle quantizeChunk;
    private final MemorySegment tensorContext;

    private LlamaCpp(Path library) throws Throwable {
        lookup = SymbolLookup.libraryLookup(library, Arena.global());
        MethodHandle ggmlInit = function("ggml_init", FunctionDescriptor.of(ValueLayout.ADDRESS, GGML_INIT_PARAMS));
        // ggml_init fills ggml's fp16 tables, which the quantizers read; the context holds tensor headers (no data)
        MemorySegment params = Arena.global().allocate(GGML_INIT_PARAMS);
        params.set(SIZE_T, 0, 16L << 20);
        params.set(ValueLayout.JAVA_BOOLEAN, 16, true);
        tensorContext = (MemorySegment) ggmlInit.invokeExact(params);
        quantizeChunk = function("ggml_quantize_chunk", FunctionDescriptor.of(SIZE_T, ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    }

    /** The library, extracted from the test class path once per JVM. */
    public static synchronized LlamaCpp get() {
        if (instance == null) {
            try (InputStream in = LlamaCpp.class.getClassLoader().getResourceAsStream(LIBRARY)) {
                if (in == null) {
                    throw new IllegalStateException(LIBRARY + " is not on the test class path: the test dependency "
                            + "de.kherud:llama (llama.cpp for linux-x86_64) is missing");
                }
                Path file = Files.createTempFile("ggml-reference", ".so");
                file.toFile().deleteOnExit();
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                instance = new LlamaCpp(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (Throwable e) {
                throw new IllegalStateException("could not load llama.cpp's ggml from " + LIBRARY, e);
            }
        }
        return instance;
    }

    private MethodHandle function(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new IllegalStateException(name + " not found in " + LIBRARY));
        return LINKER.downcallHandle(symbol, descriptor);
    }

    public static int ggmlType(TensorType type) {
        return GGML_TYPES.get(type);
    }

    /** {@code rows} rows of {@code perRow} values in {@code type}'s blocks, by ggml's quantizer (no importance matrix). */
    public byte[] quantize(TensorType type, float[] values, int rows, int perRow) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            long bytes = type.byteSize((long) rows * perRow);
            MemorySegment dst = arena.allocate(bytes, 64);
            long written = (long) quantizeChunk.invokeExact(ggmlType(type), src, dst, 0L, (long) rows, (long) perRow,
                    MemorySegment.NULL);
            if (written != bytes) {
                throw new IllegalStateException("ggml_quantize_chunk wrote " + written + " bytes, expected " + bytes);
            }
            return dst.toArray(ValueLayout.JAVA_BYTE);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** ggml's {@code dequantize_row_<type>} over {@code elements} values of blocks. */
    public float[] dequantize(TensorType type, byte[] blocks, int elements) {
        MethodHandle f = function("dequantize_row_" + type.name().toLowerCase(Locale.ROOT).replace("_k", "_K"),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_BYTE, blocks);
            MemorySegment dst = arena.allocate(ValueLayout.JAVA_FLOAT, elements);
            f.invokeExact(src, dst, (long) elements);
            return dst.toArray(ValueLayout.JAVA_FLOAT);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    private static RuntimeException rethrow(Throwable e) {
        return e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }

    /** A new GGUF file built by llama.cpp's gguf API, starting with every key/value of {@code template}. */
    public Writer writer(Path template) {
        return new Writer(template);
    }

    /** llama.cpp's GGUF writer: metadata copied from a template file and overridden, tensors added in order. */
    public final class Writer {
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment gguf;

        private Writer(Path template) {
            try {
                MemorySegment params = arena.allocate(GGUF_INIT_PARAMS);
                params.set(ValueLayout.JAVA_BOOLEAN, 0, true);
                MemorySegment source = (MemorySegment) function("gguf_init_from_file",
                        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, GGUF_INIT_PARAMS))
                        .invokeExact(arena.allocateFrom(template.toString()), params);
                if (source.equals(MemorySegment.NULL)) {
                    throw new IllegalStateException("llama.cpp could not read " + template);
                }
                gguf = (MemorySegment) function("gguf_init_empty", FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact();
                function("gguf_set_kv", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS))
                        .invokeExact(gguf, source);
                function("gguf_free", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS)).invokeExact(source);
            } catch (Throwable e) {
                arena.close();
                throw rethrow(e);
            }
        }

        public Writer u32(String key, int value) {
            try {
                function("gguf_set_val_u32", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT))
                        .invokeExact(gguf, arena.allocateFrom(key), value);
                return this;
            } catch (Throwable e) {
                throw rethrow(e);
            }
        }

        /** A tensor of {@code type} with dimensions in GGUF order (contiguous first) and its encoded bytes. */
        public Writer tensor(String name, TensorType type, byte[] data, long... ggufDims) {
            try {
                MemorySegment ne = arena.allocateFrom(ValueLayout.JAVA_LONG, ggufDims);
                MemorySegment t = (MemorySegment) function("ggml_new_tensor", FunctionDescriptor.of(ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS))
                        .invokeExact(tensorContext, ggmlType(type), ggufDims.length, ne);
                MemorySegment cname = arena.allocateFrom(name);
                MemorySegment named = (MemorySegment) function("ggml_set_name",
                        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS)).invokeExact(t, cname);
                function("gguf_add_tensor", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS))
                        .invokeExact(gguf, named);
                MemorySegment bytes = arena.allocate(data.length, 64);
                MemorySegment.copy(data, 0, bytes, ValueLayout.JAVA_BYTE, 0, data.length);
                function("gguf_set_tensor_data", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS))
                        .invokeExact(gguf, cname, bytes);
                return this;
            } catch (Throwable e) {
                throw rethrow(e);
            }
        }

        /** Writes the file and releases the writer. */
        public void write(Path file) {
            try {
                boolean ok = (boolean) function("gguf_write_to_file", FunctionDescriptor.of(ValueLayout.JAVA_BOOLEAN,
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_BOOLEAN))
                        .invokeExact(gguf, arena.allocateFrom(file.toString()), false);
                if (!ok) {
                    throw new IllegalStateException("llama.cpp could not write " + file);
                }
            } catch (Throwable e) {
                throw rethrow(e);
            } finally {
                try {
                    function("gguf_free", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS)).invokeExact(gguf);
                } catch (Throwable e) {
                    throw rethrow(e);
                }
                arena.close();
            }
        }
    }
}
