package io.qspec.format.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.TestModels;
import io.qspec.format.ModelFormatException;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorDecoding;
import io.qspec.format.TensorType;
import io.qspec.format.safetensors.SafetensorsTestFiles.Entry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    private static Path realFile() {
        return TestModels.tinyStories656K().resolve("model.safetensors");
    }

    @Test
    void readsTheHeaderOfTheRealModel() {
        try (SafetensorsFile file = SafetensorsFile.open(realFile())) {
            // 2 layers × 9 tensors + final norm + lm_head; embeddings are tied, so only lm_head is stored.
            assertThat(file.tensorNames()).hasSize(20)
                    .contains("lm_head.weight", "model.norm.weight", "model.layers.1.self_attn.v_proj.weight")
                    .doesNotContain("model.embed_tokens.weight");
            assertThat(file.headerMetadata()).containsEntry("format", "pt")
                    .containsEntry("model.embed_tokens.weight", "lm_head.weight");

            RawTensor lmHead = file.find("lm_head.weight").orElseThrow();
            assertThat(lmHead.type()).isEqualTo(TensorType.F32);
            assertThat(lmHead.shape()).containsExactly(2048, 128);
            assertThat(lmHead.data().byteSize()).isEqualTo(2048L * 128 * 4);
            assertThat(file.find("model.layers.0.mlp.gate_proj.weight").orElseThrow().shape()).containsExactly(384, 128);
            assertThat(file.find("model.layers.0.mlp.down_proj.weight").orElseThrow().shape()).containsExactly(128, 384);
            // 4 KV heads × head size 16 = 64 rows.
            assertThat(file.find("model.layers.0.self_attn.k_proj.weight").orElseThrow().shape()).containsExactly(64, 128);
            assertThat(file.find("model.norm.weight").orElseThrow().shape()).containsExactly(128);
            assertThat(file.tensors().values()).allMatch(t -> t.type() == TensorType.F32);
        }
    }

    @Test
    void floatValuesMatchAnIndependentReadOfTheFile() {
        // Expected bit patterns were read with Python (struct.unpack('<f') at 8 + header length +
        // data_offsets[0] + 4 × index), independently of this reader.
        try (SafetensorsFile file = SafetensorsFile.open(realFile())) {
            assertBits(file, "lm_head.weight", 0, 0xbf2f0000); // -0.68359375
            assertBits(file, "lm_head.weight", 1, 0xbcd40000); // -0.02587890625
            assertBits(file, "lm_head.weight", 2048 * 128 - 1, 0xbed80000); // -0.421875
            assertBits(file, "model.layers.0.mlp.gate_proj.weight", 5 * 128 + 7, 0xbd310000); // -0.043212890625
            assertBits(file, "model.norm.weight", 0, 0x3f240000); // 0.640625
            assertBits(file, "model.layers.1.self_attn.k_proj.weight", 63 * 128 + 127, 0xbd8b0000); // -0.06787109375
            float[] row = new float[128];
            TensorDecoding.decodeRow(file.find("lm_head.weight").orElseThrow(), 0, row);
            assertThat(row[0]).isEqualTo(-0.68359375f);
            assertThat(row[1]).isEqualTo(-0.02587890625f);
        }
    }

    private static void assertBits(SafetensorsFile file, String name, long index, int bits) {
        float v = file.find(name).orElseThrow().getFloat(index);
        assertThat(Float.floatToRawIntBits(v)).as("%s[%d] = %s", name, index, v).isEqualTo(bits);
    }

    @Test
    void readsF16AndBf16AndAllowsOverlappingTensors() throws IOException {
        float[] values = {1.0f, -2.5f, 0.15625f, 65504f};
        String header = """
                {"__metadata__": {"format": "pt"},
                 "half": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]},
                 "brain": {"dtype": "BF16", "shape": [4], "data_offsets": [8, 16]},
                 "alias": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]},
                 "empty": {"dtype": "F32", "shape": [0, 3], "data_offsets": [16, 16]}}""";
        byte[] data = concat(SafetensorsTestFiles.f16(values), SafetensorsTestFiles.bf16(values));
        Path path = SafetensorsTestFiles.writeRaw(tmp.resolve("mixed.safetensors"), header, data);
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            RawTensor half = file.find("half").orElseThrow();
            assertThat(half.type()).isEqualTo(TensorType.F16);
            assertThat(TensorDecoding.toFloatArray(half)).containsExactly(values);
            RawTensor brain = file.find("brain").orElseThrow();
            assertThat(brain.type()).isEqualTo(TensorType.BF16);
            assertThat(TensorDecoding.toFloatArray(brain)).containsExactly(1.0f, -2.5f, 0.15625f, 65280f);
            assertThat(TensorDecoding.toFloatArray(file.find("alias").orElseThrow())).containsExactly(values);
            assertThat(file.find("empty").orElseThrow().elementCount()).isZero();
            assertThat(file.tensorNames()).containsExactly("half", "brain", "alias", "empty");
        }
    }

    @Test
    void tensorsAreUnusableAfterClose() {
        SafetensorsFile file = SafetensorsFile.open(realFile());
        RawTensor norm = file.find("model.norm.weight").orElseThrow();
        file.close();
        file.close(); // closing twice is harmless
        assertThatThrownBy(() -> norm.getFloat(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void truncatedFileNamesTensorAndSizes() throws IOException {
        byte[] real = Files.readAllBytes(realFile());
        Path cut = Files.write(tmp.resolve("cut.safetensors"), Arrays.copyOf(real, real.length - 100));
        assertFormatError(cut, "file is truncated", "model.norm.weight", "needs bytes [2623488,2624000)", "holds 2623900 bytes",
                "re-download");
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        Path tiny = Files.write(tmp.resolve("tiny.safetensors"), new byte[] {1, 2, 3});
        assertFormatError(tiny, "file is truncated", "holds 3 bytes");
        Path empty = Files.write(tmp.resolve("empty.safetensors"), new byte[0]);
        assertFormatError(empty, "file is truncated", "holds 0 bytes");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(0x7766554433221100L);
        Path bad = Files.write(tmp.resolve("badlen.safetensors"), b.array());
        assertFormatError(bad, "bad header length", "not a safetensors file");
    }

    @Test
    void headerLongerThanFile() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).put("{}".getBytes());
        Path bad = Files.write(tmp.resolve("short.safetensors"), b.array());
        assertFormatError(bad, "file is truncated", "header needs bytes [8,1008)", "holds 40 bytes");
    }

    @Test
    void malformedJsonHeader() throws IOException {
        Path bad = SafetensorsTestFiles.writeRaw(tmp.resolve("json.safetensors"),
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]", new byte[4]);
        assertFormatError(bad, "header", "not valid JSON");
        Path notObject = SafetensorsTestFiles.writeRaw(tmp.resolve("array.safetensors"), "[1, 2]", new byte[0]);
        assertFormatError(notObject, "expected a JSON object");
    }

    @Test
    void offsetsBeyondEndOfFile() throws IOException {
        Path bad = SafetensorsTestFiles.writeRaw(tmp.resolve("eof.safetensors"),
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}", new byte[16]);
        assertFormatError(bad, "file is truncated", "tensor 'w' needs bytes [8,24) of the data section but it holds 16");
    }

    @Test
    void offsetsInconsistentWithShape() throws IOException {
        Path bad = SafetensorsTestFiles.writeRaw(tmp.resolve("shape.safetensors"),
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [3, 2], \"data_offsets\": [0, 16]}}", new byte[16]);
        assertFormatError(bad, "tensor 'w'", "needs 24 bytes", "span 16 bytes");
        Path reversed = SafetensorsTestFiles.writeRaw(tmp.resolve("reversed.safetensors"),
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]}}", new byte[16]);
        assertFormatError(reversed, "tensor 'w'", "end before they begin");
        Path negative = SafetensorsTestFiles.writeRaw(tmp.resolve("negative.safetensors"),
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", new byte[16]);
        assertFormatError(negative, "tensor 'w'", "non-negative integers");
        Path missing = SafetensorsTestFiles.writeRaw(tmp.resolve("missing.safetensors"),
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", new byte[16]);
        assertFormatError(missing, "tensor 'w'", "data_offsets");
    }

    @Test
    void unsupportedDtypeNamesTensorAndType() throws IOException {
        Path bad = SafetensorsTestFiles.write(tmp.resolve("ints.safetensors"), List.of(
                new Entry("ok", "F32", new long[] {1}, SafetensorsTestFiles.f32(1f)),
                new Entry("position_ids", "I64", new long[] {2}, new byte[16])));
        assertFormatError(bad, "tensor 'position_ids'", "dtype I64", "F32, F16, BF16");
    }

    @Test
    void missingFile() {
        assertFormatError(tmp.resolve("nothere.safetensors"), "not found");
    }

    private static void assertFormatError(Path file, String... fragments) {
        assertThatThrownBy(() -> SafetensorsFile.open(file).close())
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContaining(file.getFileName().toString())
                .hasMessageContainingAll(fragments)
                .satisfies(e -> assertThat(((ModelFormatException) e).file()).isEqualTo(file));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
