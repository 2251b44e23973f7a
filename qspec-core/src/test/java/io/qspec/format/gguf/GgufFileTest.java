package io.qspec.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.qspec.TestModels;
import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorDecoding;
import io.qspec.format.TensorType;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reads the real stories260K.gguf. Expected values were read independently with a hand-written
 * Python GGUF parser (struct.unpack on the raw bytes), not with this code.
 */
class GgufFileTest {
    private static GgufFile gguf;

    @BeforeAll
    static void open() {
        gguf = GgufFile.open(TestModels.stories260K());
    }

    @AfterAll
    static void close() {
        if (gguf != null) {
            gguf.close();
        }
    }

    @Test
    void headerHasVersionCountsAndDataOffset() {
        assertThat(gguf.version()).isEqualTo(3);
        assertThat(gguf.tensorNames()).hasSize(48);
        assertThat(gguf.metadata().asMap()).hasSize(19);
        assertThat(gguf.alignment()).isEqualTo(32);
        // header ends at byte 14152, padded to the 32-byte alignment
        assertThat(gguf.dataOffset()).isEqualTo(14176);
        assertThat(gguf.location()).isEqualTo(TestModels.stories260K());
    }

    @Test
    void tensorNamesAreInFileOrder() {
        assertThat(gguf.tensorNames()).startsWith("token_embd.weight", "output_norm.weight", "output.weight",
                "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight");
        assertThat(gguf.tensors()).last().extracting(RawTensor::name).isEqualTo("blk.4.ffn_norm.weight");
    }

    @Test
    void shapesAreGgufDimsReversedToRowMajor() {
        // GGUF stores token_embd.weight as ne = [64, 512]: 512 rows of 64 contiguous floats
        assertShape("token_embd.weight", 512, 64);
        assertShape("output.weight", 512, 64);
        assertShape("output_norm.weight", 64);
        assertShape("blk.0.attn_q.weight", 64, 64);
        assertShape("blk.0.attn_k.weight", 32, 64);
        assertShape("blk.0.attn_v.weight", 32, 64);
        assertShape("blk.0.ffn_gate.weight", 172, 64);
        assertShape("blk.0.ffn_up.weight", 172, 64);
        assertShape("blk.0.ffn_down.weight", 64, 172);
        assertShape("blk.4.ffn_norm.weight", 64);
        assertThat(gguf.tensors()).allSatisfy(t -> assertThat(t.type()).isEqualTo(TensorType.F32));
    }

    private static void assertShape(String name, long... shape) {
        RawTensor t = gguf.require(name);
        assertThat(t.shape()).as(name).containsExactly(shape);
        assertThat(t.data().byteSize()).as(name + " bytes").isEqualTo(t.elementCount() * 4);
    }

    @Test
    void floatValuesMatchAnIndependentReader() {
        RawTensor embd = gguf.require("token_embd.weight");
        assertThat(embd.getFloat(0)).isEqualTo(-0.29474878311157227f);
        assertThat(embd.getFloat(1)).isEqualTo(0.5618956089019775f);
        assertThat(embd.getFloat(64)).isEqualTo(-0.12708568572998047f);   // row 1, column 0
        assertThat(embd.getFloat(2047)).isEqualTo(-0.4025828540325165f);

        float[] gateRow1 = new float[64];
        TensorDecoding.decodeRow(gguf.require("blk.0.ffn_gate.weight"), 1, gateRow1);
        assertThat(gateRow1[0]).isEqualTo(0.07753561437129974f);
        assertThat(gateRow1[1]).isEqualTo(0.06825696676969528f);

        RawTensor k = gguf.require("blk.0.attn_k.weight");
        assertThat(k.getFloat(100)).isEqualTo(-0.2758502662181854f);

        // the very last 4 bytes of the file
        RawTensor lastNorm = gguf.require("blk.4.ffn_norm.weight");
        assertThat(lastNorm.getFloat(0)).isEqualTo(1.0344241857528687f);
        assertThat(lastNorm.getFloat(63)).isEqualTo(1.234261155128479f);
    }

    @Test
    void metadataHasLlamaHyperparametersAsLongsAndDoubles() {
        ModelMetadata md = gguf.metadata();
        assertThat(md.getString("general.architecture")).contains("llama");
        assertThat(md.getString("tokenizer.ggml.model")).contains("llama");
        assertThat(md.get("llama.embedding_length")).contains(64L);
        assertThat(md.get("llama.feed_forward_length")).contains(172L);
        assertThat(md.get("llama.block_count")).contains(5L);
        assertThat(md.get("llama.attention.head_count")).contains(8L);
        assertThat(md.get("llama.attention.head_count_kv")).contains(4L);
        assertThat(md.get("llama.context_length")).contains(2048L);
        assertThat(md.get("llama.rope.dimension_count")).contains(8L);
        assertThat(md.get("tokenizer.ggml.bos_token_id")).contains(1L);
        assertThat(md.get("tokenizer.ggml.eos_token_id")).contains(2L);
        // uint32 0xFFFFFFFF stays unsigned
        assertThat(md.get("tokenizer.ggml.padding_token_id")).contains(4294967295L);
        // float32 1e-5 widened exactly to double
        assertThat(md.get("llama.attention.layer_norm_rms_epsilon")).contains((double) 1e-5f);
        assertThat(md.getDouble("llama.attention.layer_norm_rms_epsilon").orElseThrow()).isCloseTo(1e-5, within(1e-12));
    }

    @Test
    void metadataKeepsFileOrderAndTypedArrays() {
        ModelMetadata md = gguf.metadata();
        assertThat(md.asMap().keySet()).startsWith("tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                "tokenizer.ggml.token_type", "tokenizer.ggml.model", "general.architecture");
        List<Object> tokens = md.getList("tokenizer.ggml.tokens").orElseThrow();
        assertThat(tokens).hasSize(512).startsWith("<unk>", "<s>", "</s>", "<0x00>");
        assertThat(tokens.get(403)).isEqualTo("\u2581Once");
        List<Object> scores = md.getList("tokenizer.ggml.scores").orElseThrow();
        assertThat(scores).hasSize(512).allSatisfy(s -> assertThat(s).isInstanceOf(Double.class));
        assertThat(scores.get(261)).isEqualTo(-2.0);
        assertThat(md.getList("tokenizer.ggml.token_type").orElseThrow()).startsWith(2L, 3L, 3L, 6L);
        assertThatThrownBy(() -> md.asMap().put("x", 1L)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void missingTensorIsAModelFormatExceptionNamingTheFile() {
        assertThat(gguf.find("no.such.tensor")).isEmpty();
        assertThatThrownBy(() -> gguf.require("no.such.tensor"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("stories260K.gguf")
                .hasMessageContaining("no.such.tensor");
    }

    @Test
    void closeIsIdempotentAndInvalidatesTensors() {
        GgufFile second = GgufFile.open(TestModels.stories260K());
        RawTensor norm = second.require("output_norm.weight");
        assertThat(norm.getFloat(0)).isEqualTo(2.4583089351654053f);
        second.close();
        second.close();
        assertThatThrownBy(() -> second.find("output_norm.weight")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> norm.getFloat(0)).isInstanceOf(IllegalStateException.class);
    }
}
