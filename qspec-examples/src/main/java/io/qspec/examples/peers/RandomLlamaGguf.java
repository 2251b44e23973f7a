package io.qspec.examples.peers;

import io.qspec.format.gguf.GgufFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes a random-weight Llama model as a GGUF v3 file that llama.cpp and QSpec both load: linear weights and the
 * output head in GGML Q4_0 (blocks of 32, quantized as ggml's reference {@code quantize_row_q4_0_ref} does, which QSpec
 * transcodes bit for bit into its INT4 set), the token embedding in F16, norms of 1 in F32. Weights are N(0, 0.02²)
 * like {@link RandomLlamaFolder}'s. The SentencePiece vocabulary of {@code stories260K.gguf} is copied and padded with
 * {@code <extra_N>} entries up to the shape's vocabulary. Tensors are generated and written one at a time.
 */
public final class RandomLlamaGguf {
    private static final int ALIGNMENT = 32;
    private static final int GGML_F32 = 0;
    private static final int GGML_F16 = 1;
    private static final int GGML_Q4_0 = 2;
    private static final int KV_UINT32 = 4;
    private static final int KV_INT32 = 5;
    private static final int KV_FLOAT32 = 6;
    private static final int KV_STRING = 8;
    private static final int KV_ARRAY = 9;

    private RandomLlamaGguf() {
    }

    /** The vocabulary source used when none is given: {@code <qspec.models.dir or ../shared/models>/stories260K/stories260K.gguf}. */
    public static Path defaultVocabularySource() {
        return Path.of(System.getProperty("qspec.models.dir", "../shared/models"), "stories260K", "stories260K.gguf")
                .toAbsolutePath().normalize();
    }

    private record Tensor(String name, int type, long[] ggufDims) {
        long elements() {
            long n = 1;
            for (long d : ggufDims) {
                n *= d;
            }
            return n;
        }

        long bytes() {
            return switch (type) {
                case GGML_F32 -> elements() * 4;
                case GGML_F16 -> elements() * 2;
                default -> elements() / 32 * 18;
            };
        }
    }

    /** Writes {@code file}; {@code vocabularySource} is a GGUF file with a {@code llama} (SentencePiece) vocabulary. */
    public static Path write(Path file, PeerShape shape, Path vocabularySource, long seed) {
        return write(file, shape, vocabularySource, seed, true);
    }

    /**
     * As {@link #write(Path, PeerShape, Path, long)}; with {@code q4_0} false the linear weights and the head are F32
     * instead (the same random draws), for checking that two engines read the file as the same model.
     */
    public static Path write(Path file, PeerShape shape, Path vocabularySource, long seed, boolean q4_0) {
        if (shape.dim() % 32 != 0 || shape.hiddenDim() % 32 != 0) {
            throw new IllegalArgumentException("Q4_0 needs rows that are multiples of 32: " + shape);
        }
        List<Tensor> tensors = tensors(shape, q4_0 ? GGML_Q4_0 : GGML_F32);
        LittleEndian header = new LittleEndian();
        header.bytes("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(3).u64(tensors.size());
        LittleEndian kvs = new LittleEndian();
        int kvCount = metadata(kvs, shape, vocabularySource);
        header.u64(kvCount).bytes(kvs.toArray());
        long offset = 0;
        for (Tensor t : tensors) {
            header.string(t.name).u32(t.ggufDims.length);
            for (long d : t.ggufDims) {
                header.u64(d);
            }
            header.u32(t.type).u64(offset);
            offset = align(offset + t.bytes());
        }
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            byte[] head = header.toArray();
            writeFully(out, ByteBuffer.wrap(head));
            long position = align(head.length);
            SplittableRandom random = new SplittableRandom(seed);
            for (Tensor t : tensors) {
                ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(t.bytes())).order(ByteOrder.LITTLE_ENDIAN);
                fill(t, data, random);
                data.flip();
                out.position(position);
                writeFully(out, data);
                position = align(position + t.bytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the random model to " + file, e);
        }
        return file;
    }

    private static List<Tensor> tensors(PeerShape s, int linear) {
        long kvDim = (long) s.kvHeads() * s.headDim();
        List<Tensor> t = new ArrayList<>();
        t.add(new Tensor("token_embd.weight", GGML_F16, new long[] {s.dim(), s.vocabSize()}));
        t.add(new Tensor("output_norm.weight", GGML_F32, new long[] {s.dim()}));
        t.add(new Tensor("output.weight", linear, new long[] {s.dim(), s.vocabSize()}));
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            t.add(new Tensor(p + "attn_norm.weight", GGML_F32, new long[] {s.dim()}));
            t.add(new Tensor(p + "attn_q.weight", linear, new long[] {s.dim(), s.dim()}));
            t.add(new Tensor(p + "attn_k.weight", linear, new long[] {s.dim(), kvDim}));
            t.add(new Tensor(p + "attn_v.weight", linear, new long[] {s.dim(), kvDim}));
            t.add(new Tensor(p + "attn_output.weight", linear, new long[] {s.dim(), s.dim()}));
            t.add(new Tensor(p + "ffn_norm.weight", GGML_F32, new long[] {s.dim()}));
            t.add(new Tensor(p + "ffn_gate.weight", linear, new long[] {s.dim(), s.hiddenDim()}));
            t.add(new Tensor(p + "ffn_up.weight", linear, new long[] {s.dim(), s.hiddenDim()}));
            t.add(new Tensor(p + "ffn_down.weight", linear, new long[] {s.hiddenDim(), s.dim()}));
        }
        return t;
    }

    /** Writes the key/values; returns how many. */
    private static int metadata(LittleEndian kv, PeerShape s, Path vocabularySource) {
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        try (GgufFile source = GgufFile.open(vocabularySource)) {
            var m = source.metadata().asMap();
            for (Object o : (List<?>) m.get("tokenizer.ggml.tokens")) {
                tokens.add((String) o);
            }
            for (Object o : (List<?>) m.get("tokenizer.ggml.scores")) {
                scores.add(((Number) o).floatValue());
            }
            for (Object o : (List<?>) m.get("tokenizer.ggml.token_type")) {
                types.add(((Number) o).intValue());
            }
        }
        if (tokens.size() > s.vocabSize()) {
            throw new IllegalArgumentException(vocabularySource + " has " + tokens.size() + " tokens, more than the shape's "
                    + s.vocabSize());
        }
        for (int i = tokens.size(); i < s.vocabSize(); i++) {
            tokens.add("<extra_" + i + ">");
            scores.add(-1e4f);
            types.add(1);   // normal: no merge of ordinary text produces these strings
        }
        kv.string("general.architecture").u32(KV_STRING).string("llama");
        kv.string("general.name").u32(KV_STRING).string("random-" + s.name());
        kv.string("llama.context_length").u32(KV_UINT32).u32(4096);
        kv.string("llama.embedding_length").u32(KV_UINT32).u32(s.dim());
        kv.string("llama.feed_forward_length").u32(KV_UINT32).u32(s.hiddenDim());
        kv.string("llama.block_count").u32(KV_UINT32).u32(s.layers());
        kv.string("llama.attention.head_count").u32(KV_UINT32).u32(s.heads());
        kv.string("llama.attention.head_count_kv").u32(KV_UINT32).u32(s.kvHeads());
        kv.string("llama.rope.dimension_count").u32(KV_UINT32).u32(s.headDim());
        kv.string("llama.rope.freq_base").u32(KV_FLOAT32).f32((float) s.ropeTheta());
        kv.string("llama.attention.layer_norm_rms_epsilon").u32(KV_FLOAT32).f32(1e-5f);
        kv.string("tokenizer.ggml.model").u32(KV_STRING).string("llama");
        kv.string("tokenizer.ggml.tokens").u32(KV_ARRAY).u32(KV_STRING).u64(tokens.size());
        tokens.forEach(kv::string);
        kv.string("tokenizer.ggml.scores").u32(KV_ARRAY).u32(KV_FLOAT32).u64(scores.size());
        scores.forEach(kv::f32);
        kv.string("tokenizer.ggml.token_type").u32(KV_ARRAY).u32(KV_INT32).u64(types.size());
        types.forEach(kv::u32);
        kv.string("tokenizer.ggml.bos_token_id").u32(KV_UINT32).u32(1);
        kv.string("tokenizer.ggml.eos_token_id").u32(KV_UINT32).u32(2);
        kv.string("tokenizer.ggml.unknown_token_id").u32(KV_UINT32).u32(0);
        return 18;
    }

    private static void fill(Tensor t, ByteBuffer data, SplittableRandom random) {
        long n = t.elements();
        switch (t.type) {
            case GGML_F32 -> {
                boolean norm = t.ggufDims.length == 1;
                for (long i = 0; i < n; i++) {
                    data.putFloat(norm ? 1f : (float) (RandomLlamaFolder.WEIGHT_STD * random.nextGaussian()));
                }
            }
            case GGML_F16 -> {
                for (long i = 0; i < n; i++) {
                    data.putShort(Float.floatToFloat16((float) (RandomLlamaFolder.WEIGHT_STD * random.nextGaussian())));
                }
            }
            default -> {
                float[] block = new float[32];
                for (long b = 0; b < n / 32; b++) {
                    for (int j = 0; j < 32; j++) {
                        block[j] = (float) (RandomLlamaFolder.WEIGHT_STD * random.nextGaussian());
                    }
                    putQ4_0(block, data);
                }
            }
        }
    }

    /**
     * One Q4_0 block as ggml's reference quantizer writes it: {@code d = v / -8} for the value {@code v} of largest
     * magnitude, codes {@code min(15, (int) (x / d + 8.5))}, element {@code j} in the low nibble of byte {@code j} and
     * element {@code j + 16} in its high nibble.
     */
    static void putQ4_0(float[] x, ByteBuffer out) {
        float amax = 0f;
        float max = 0f;
        for (float v : x) {
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0f ? 1f / d : 0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[j + 16] * id + 8.5f));
            out.put((byte) (lo | hi << 4));
        }
    }

    private static long align(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void writeFully(FileChannel out, ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            out.write(data);
        }
    }

    /** A growing little-endian byte buffer for the header. */
    private static final class LittleEndian {
        private ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private LittleEndian room(int bytes) {
            if (buffer.remaining() < bytes) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + bytes))
                        .order(ByteOrder.LITTLE_ENDIAN);
                buffer.flip();
                bigger.put(buffer);
                buffer = bigger;
            }
            return this;
        }

        LittleEndian u32(int v) {
            room(4).buffer.putInt(v);
            return this;
        }

        LittleEndian u64(long v) {
            room(8).buffer.putLong(v);
            return this;
        }

        LittleEndian f32(float v) {
            room(4).buffer.putFloat(v);
            return this;
        }

        LittleEndian bytes(byte[] b) {
            room(b.length).buffer.put(b);
            return this;
        }

        LittleEndian string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).bytes(b);
        }

        byte[] toArray() {
            byte[] out = new byte[buffer.position()];
            buffer.duplicate().flip().get(out);
            return out;
        }
    }
}
