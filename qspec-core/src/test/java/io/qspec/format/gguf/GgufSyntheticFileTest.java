package io.qspec.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.format.ModelFormatException;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-built GGUF files: every metadata value type, every supported tensor type, and each structural error. */
class GgufSyntheticFileTest {
    @TempDir
    Path dir;

    private Path write(String name, GgufTestWriter writer) {
        return writer.writeTo(dir.resolve(name));
    }

    @Test
    void readsEveryMetadataValueTypeInFileOrder() {
        Path file = write("types.gguf", new GgufTestWriter().version(2)
                .kv("u8", 0, b -> b.u8(255))
                .kv("i8", 1, b -> b.u8(0xFF))
                .kv("u16", 2, b -> b.u16(65535))
                .kv("i16", 3, b -> b.u16(0xFFFE))
                .kv("u32", 4, b -> b.u32(0xFFFF_FFFFL))
                .kv("i32", 5, b -> b.u32(-3))
                .kv("f32", 6, b -> b.f32(1.5f))
                .kv("bool", 7, b -> b.u8(1))
                .kv("string", 8, b -> b.string("héllo ▁ 😀"))
                .kv("array", 9, b -> b.u32(4).u64(3).u32(10).u32(20).u32(30))
                .kv("nested", 9, b -> b.u32(9).u64(2)
                        .u32(8).u64(2).string("a").string("b")
                        .u32(8).u64(0))
                .kv("u64", 10, b -> b.u64(-1))
                .kv("i64", 11, b -> b.u64(-5))
                .kv("f64", 12, b -> b.f64(0.1))
                .kv("empty", 8, b -> b.string("")));
        try (GgufFile gguf = GgufFile.open(file)) {
            assertThat(gguf.version()).isEqualTo(2);
            assertThat(gguf.tensorNames()).isEmpty();
            Map<String, Object> md = gguf.metadata().asMap();
            assertThat(md.keySet()).containsExactly("u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string",
                    "array", "nested", "u64", "i64", "f64", "empty");
            assertThat(md.get("u8")).isEqualTo(255L);
            assertThat(md.get("i8")).isEqualTo(-1L);
            assertThat(md.get("u16")).isEqualTo(65535L);
            assertThat(md.get("i16")).isEqualTo(-2L);
            assertThat(md.get("u32")).isEqualTo(4294967295L);
            assertThat(md.get("i32")).isEqualTo(-3L);
            assertThat(md.get("f32")).isEqualTo(1.5);
            assertThat(md.get("bool")).isEqualTo(true);
            assertThat(md.get("string")).isEqualTo("héllo ▁ 😀");
            assertThat(md.get("array")).isEqualTo(List.of(10L, 20L, 30L));
            assertThat(md.get("nested")).isEqualTo(List.of(List.of("a", "b"), List.of()));
            assertThat(md.get("u64")).isEqualTo(-1L);   // 2^64-1 keeps its bits
            assertThat(md.get("i64")).isEqualTo(-5L);
            assertThat(md.get("f64")).isEqualTo(0.1);
            assertThat(md.get("empty")).isEqualTo("");
        }
    }

    @Test
    void decodesEverySupportedTensorTypeWithRowMajorShapes() {
        GgufTestWriter w = new GgufTestWriter()
                .tensor("f16", 1, 0, 3, 2)          // ne [3, 2] -> shape [2, 3], 12 bytes
                .tensor("bf16", 30, 32, 2)          // 4 bytes
                .tensor("q8", 8, 64, 32, 2)         // two blocks of 34 bytes
                .tensor("q4", 2, 160, 32);          // one block of 18 bytes
        w.data(b -> {
            for (float v : new float[] {1, 2, 3, -1, -2, 0.5f}) {
                b.f16(v);
            }
            b.raw(new byte[20]);
            b.u16(0x3F80).u16(0xC040);              // bf16 1.0, -3.0
            b.raw(new byte[28]);
            for (int block = 0; block < 2; block++) {
                b.f16(block == 0 ? 0.5f : 2f);
                for (int i = 0; i < 32; i++) {
                    b.u8(i - 16);
                }
            }
            b.raw(new byte[160 - 64 - 68]);
            b.f16(0.25f);
            for (int i = 0; i < 16; i++) {
                b.u8((15 - (i & 15)) << 4 | (i & 15));   // low nibble i, high nibble 15 - i
            }
        });
        try (GgufFile gguf = GgufFile.open(write("tensors.gguf", w))) {
            RawTensor f16 = gguf.require("f16");
            assertThat(f16.type()).isEqualTo(TensorType.F16);
            assertThat(f16.shape()).containsExactly(2, 3);
            assertThat(f16.getFloat(2)).isEqualTo(3f);
            assertThat(f16.getFloat(5)).isEqualTo(0.5f);
            RawTensor bf16 = gguf.require("bf16");
            assertThat(bf16.getFloat(0)).isEqualTo(1f);
            assertThat(bf16.getFloat(1)).isEqualTo(-3f);
            RawTensor q8 = gguf.require("q8");
            assertThat(q8.shape()).containsExactly(2, 32);
            assertThat(q8.data().byteSize()).isEqualTo(68);
            assertThat(q8.getFloat(0)).isEqualTo(-8f);
            assertThat(q8.getFloat(32 + 31)).isEqualTo(30f);
            RawTensor q4 = gguf.require("q4");
            assertThat(q4.data().byteSize()).isEqualTo(18);
            assertThat(q4.getFloat(0)).isEqualTo(0.25f * (0 - 8));
            assertThat(q4.getFloat(16)).isEqualTo(0.25f * (15 - 8));
        }
    }

    @Test
    void honoursGeneralAlignment() {
        GgufTestWriter w = new GgufTestWriter().alignment(64)
                .kvU32("general.alignment", 64)
                .tensor("a", 0, 0, 4)
                .tensor("b", 0, 64, 2)
                .data(b -> b.f32(1).f32(2).f32(3).f32(4).raw(new byte[48]).f32(7).f32(8));
        try (GgufFile gguf = GgufFile.open(write("aligned.gguf", w))) {
            assertThat(gguf.alignment()).isEqualTo(64);
            assertThat(gguf.dataOffset() % 64).isZero();
            assertThat(gguf.require("b").getFloat(1)).isEqualTo(8f);
        }
    }

    @Test
    void unsupportedTensorTypeNamesTensorAndType() {
        GgufTestWriter w = new GgufTestWriter().tensor("blk.0.attn_q.weight", 16, 0, 256, 2)
                .data(b -> b.raw(new byte[288]));
        assertFails(w, "unsupported tensor type 16 (IQ2_XXS) for tensor blk.0.attn_q.weight; supported: "
                + "F32 (0), F16 (1), Q4_0 (2), Q4_1 (3), Q5_0 (6), Q5_1 (7), Q8_0 (8), Q2_K (10), Q3_K (11), Q4_K (12), "
                + "Q5_K (13), Q6_K (14), IQ4_NL (20), IQ4_XS (23), BF16 (30)");
        assertFails(new GgufTestWriter().tensor("t", 77, 0, 4), "unsupported tensor type 77 (unknown) for tensor t");
    }

    @Test
    void rejectsMisalignedOffsets() {
        GgufTestWriter w = new GgufTestWriter().tensor("a", 0, 0, 1).tensor("b", 0, 4, 1)
                .data(b -> b.raw(new byte[64]));
        assertFails(w, "tensor 'b' has data offset 4, which is not a multiple of the alignment 32");
    }

    @Test
    void rejectsDuplicateTensorNamesAndKeys() {
        assertFails(new GgufTestWriter().tensor("same", 0, 0, 1).tensor("same", 0, 32, 1)
                .data(b -> b.raw(new byte[64])), "duplicate tensor name 'same'");
        assertFails(new GgufTestWriter().kvU32("k", 1).kvU32("k", 2), "duplicate metadata key 'k'");
    }

    @Test
    void rejectsOverlappingTensors() {
        assertFails(new GgufTestWriter().tensor("a", 0, 0, 16).tensor("b", 0, 32, 1)
                .data(b -> b.raw(new byte[64])), "tensors 'a' (bytes [");
    }

    @Test
    void rejectsRowsThatAreNotWholeBlocks() {
        assertFails(new GgufTestWriter().tensor("q", 8, 0, 31, 2).data(b -> b.raw(new byte[68])),
                "tensor 'q' is Q8_0 with rows of 31 elements, which is not a multiple of the block size 32");
    }

    @Test
    void rejectsOverflowingShapes() {
        assertFails(new GgufTestWriter().tensor("huge", 0, 0, 1L << 40, 1L << 40),
                "element count overflows 64 bits");
        assertFails(new GgufTestWriter().tensor("big", 0, 0, 1L << 62),
                "needs more than 2^63 bytes");
        assertFails(new GgufTestWriter().tensor("neg", 0, 0, -1L), "has dimension 0 = 18446744073709551615");
        assertFails(new GgufTestWriter().tensor("t", 0, 0, 1, 1, 1, 1, 1), "has 5 dimensions; expected 1 to 4");
    }

    @Test
    void rejectsTensorDataBeyondTheEndOfTheFile() {
        GgufTestWriter w = new GgufTestWriter().tensor("w", 0, 0, 64).data(b -> b.raw(new byte[100]));
        assertFails(w, "file is truncated: tensor w needs bytes [");
        assertFails(w, ") but the file has ");
        assertFails(new GgufTestWriter().tensor("w", 0, 1L << 40, 1), "has data offset 1099511627776");
        assertFails(new GgufTestWriter().tensor("w", 0, -32, 1), "has data offset 18446744073709551584");
    }

    @Test
    void rejectsBadMetadataStructure() {
        assertFails(new GgufTestWriter().kv("k", 13, b -> b.u8(0)), "metadata 'k' has unknown value type 13");
        assertFails(new GgufTestWriter().kv("k", 9, b -> b.u32(42).u64(1)),
                "array elements of metadata 'k' has unknown value type 42");
        assertFails(new GgufTestWriter().kv("arr", 9, b -> b.u32(4).u64(1L << 40)),
                "metadata array 'arr' claims 1099511627776 uint32 elements");
        assertFails(new GgufTestWriter().kv("s", 8, b -> b.u64(1L << 50)),
                "value of metadata 's' claims a length of 1125899906842624 bytes");
        assertFails(new GgufTestWriter().kv("s", 8, b -> b.u64(-1)), "claims a length of 18446744073709551615");
        assertFails(new GgufTestWriter().kv("s", 8, b -> b.u64(100L << 20).raw(new byte[(100 << 20) + 1])),
                "strings longer than 67108864 bytes are not supported");
        GgufTestWriter deep = new GgufTestWriter().kv("deep", 9, b -> {
            for (int i = 0; i < 20; i++) {
                b.u32(9).u64(1);
            }
            b.u32(0).u64(0);
        });
        assertFails(deep, "metadata 'deep' nests arrays more than 8 deep");
        assertFails(new GgufTestWriter().kvU32("general.alignment", 48), "'general.alignment' is 48; expected a power of two");
        assertFails(new GgufTestWriter().kvString("general.alignment", "32"), "'general.alignment' is 32; expected a power of two");
    }

    @Test
    void rejectsAbsurdCounts() {
        assertFails(new GgufTestWriter().tensorCount(1L << 60), "tensor count is 1152921504606846976, but the");
        assertFails(new GgufTestWriter().kvCount(-1), "metadata key/value count is 18446744073709551615");
        assertFails(new GgufTestWriter().kvCount(1), "metadata key/value count is 1, but the 8 bytes left in the file can hold at most 0");
    }

    @Test
    void rejectsUnsupportedVersions() {
        assertFails(new GgufTestWriter().version(1), "unsupported GGUF version 1; expected 2 or 3 (GGUF v1 predates");
        assertFails(new GgufTestWriter().version(4), "unsupported GGUF version 4; expected 2 or 3");
        assertFails(new GgufTestWriter().version(0x0300_0000), "big-endian GGUF file");
    }

    @Test
    void missingFileOrFolderIsAModelFormatException() {
        Path missing = dir.resolve("missing.gguf");
        assertThatThrownBy(() -> GgufFile.open(missing)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("missing.gguf").hasMessageContaining("cannot read the file");
        assertThatThrownBy(() -> GgufFile.open(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(dir.toString());
    }

    @Test
    void readsLargeVocabulariesQuickly() {
        int n = 200_000;
        GgufTestWriter w = new GgufTestWriter()
                .kvString("tokenizer.ggml.model", "llama")
                .kv("tokenizer.ggml.tokens", 9, b -> {
                    b.u32(8).u64(n);
                    for (int i = 0; i < n; i++) {
                        b.string("\u2581token" + i);
                    }
                })
                .kv("tokenizer.ggml.scores", 9, b -> {
                    b.u32(6).u64(n);
                    for (int i = 0; i < n; i++) {
                        b.f32(-i);
                    }
                });
        Path file = write("vocab.gguf", w);
        long start = System.nanoTime();
        try (GgufFile gguf = GgufFile.open(file)) {
            long millis = (System.nanoTime() - start) / 1_000_000;
            List<Object> tokens = gguf.metadata().getList("tokenizer.ggml.tokens").orElseThrow();
            assertThat(tokens).hasSize(n);
            assertThat(tokens.get(n - 1)).isEqualTo("\u2581token199999");
            assertThat(gguf.metadata().getList("tokenizer.ggml.scores").orElseThrow().get(n - 1)).isEqualTo(-199999.0);
            // typically ~100 ms; the bound only catches accidental quadratic work on a loaded machine
            assertThat(millis).isLessThan(5_000);
        }
    }

    private void assertFails(GgufTestWriter writer, String problem) {
        Path file = write("broken.gguf", writer);
        assertThatThrownBy(() -> GgufFile.open(file).close())
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("broken.gguf")
                .hasMessageContaining(problem);
    }
}
