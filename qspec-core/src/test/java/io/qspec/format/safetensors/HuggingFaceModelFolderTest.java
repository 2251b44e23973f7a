package io.qspec.format.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import io.qspec.TestModels;
import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import io.qspec.format.RawTensor;
import io.qspec.format.safetensors.SafetensorsTestFiles.Entry;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HuggingFaceModelFolderTest {
    @TempDir
    Path tmp;

    @Test
    void readsConfigFilesIntoMetadata() {
        try (HuggingFaceModelFolder folder = HuggingFaceModelFolder.open(TestModels.tinyStories656K())) {
            ModelMetadata m = folder.metadata();
            assertThat(m.getLong("hidden_size")).contains(128L);
            assertThat(m.getLong("intermediate_size")).contains(384L);
            assertThat(m.getLong("num_hidden_layers")).contains(2L);
            assertThat(m.getLong("num_attention_heads")).contains(8L);
            assertThat(m.getLong("num_key_value_heads")).contains(4L);
            assertThat(m.getLong("vocab_size")).contains(2048L);
            assertThat(m.getLong("max_position_embeddings")).contains(512L);
            assertThat(m.get("hidden_size")).containsInstanceOf(Long.class);
            assertThat(m.get("rms_norm_eps")).contains(1e-6);
            // Written as 10000.0, so a Double although integral in value.
            assertThat(m.get("rope_theta")).contains(10000.0);
            assertThat(m.getBoolean("tie_word_embeddings")).contains(true);
            assertThat(m.getString("model_type")).contains("llama");
            assertThat(m.getList("architectures")).contains(List.of("LlamaForCausalLM"));
            assertThat(m.asMap()).doesNotContainKey("rope_scaling"); // null in the file
            assertThat(m.asMap().keySet()).startsWith("architectures", "attention_bias");

            assertThat(m.getLong("generation_config.bos_token_id")).contains(1L);
            assertThat(m.getLong("generation_config.eos_token_id")).contains(2L);
            assertThat(m.getString("tokenizer_config.bos_token")).contains("<|start_story|>");
            assertThat(m.getBoolean("tokenizer_config.add_bos_token")).contains(true);
            // 1000000000000000019884624838656 does not fit a long.
            assertThat(m.get("tokenizer_config.model_max_length")).containsInstanceOf(Double.class);
            Object addedTokens = m.get("tokenizer_config.added_tokens_decoder").orElseThrow();
            assertThat(addedTokens).isInstanceOf(Map.class);
            assertThat(List.copyOf(((Map<?, ?>) addedTokens).keySet())).isEqualTo(List.of("0", "1", "2"));
        }
    }

    @Test
    void exposesTheTensorsOfModelSafetensors() {
        Path dir = TestModels.tinyStories656K();
        try (HuggingFaceModelFolder folder = HuggingFaceModelFolder.open(dir);
                SafetensorsFile file = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            assertThat(folder.location()).isEqualTo(dir.toAbsolutePath().normalize());
            assertThat(folder.weightFiles()).containsExactly(dir.toAbsolutePath().normalize().resolve("model.safetensors"));
            assertThat(folder.tensorNames()).containsExactlyElementsOf(file.tensorNames());
            assertThat(folder.require("lm_head.weight").shape()).containsExactly(2048, 128);
            assertThat(folder.find("model.embed_tokens.weight")).isEmpty();
            assertThatThrownBy(() -> folder.require("model.embed_tokens.weight"))
                    .isExactlyInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("model.embed_tokens.weight");
        }
    }

    @Test
    void shardedFolderLoadsIdenticallyToSingleFile() throws IOException {
        Path sharded = writeShardedCopy();
        try (HuggingFaceModelFolder single = HuggingFaceModelFolder.open(TestModels.tinyStories656K());
                HuggingFaceModelFolder split = HuggingFaceModelFolder.open(sharded)) {
            assertThat(split.weightFiles()).extracting(p -> p.getFileName().toString())
                    .containsExactly("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors");
            assertThat(split.tensorNames()).containsExactlyInAnyOrderElementsOf(single.tensorNames());
            for (String name : single.tensorNames()) {
                RawTensor a = single.require(name);
                RawTensor b = split.require(name);
                assertThat(b.type()).isEqualTo(a.type());
                assertThat(b.shape()).isEqualTo(a.shape());
                assertThat(b.data().mismatch(a.data())).as(name).isEqualTo(-1L);
            }
            assertThat(split.metadata().asMap()).isEqualTo(single.metadata().asMap());
        }
    }

    @Test
    void missingShardIsNamed() throws IOException {
        Path sharded = writeShardedCopy();
        Files.delete(sharded.resolve("model-00002-of-00002.safetensors"));
        assertThatThrownBy(() -> HuggingFaceModelFolder.open(sharded))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("model-00002-of-00002.safetensors", "is missing", "model.safetensors.index.json");
    }

    @Test
    void indexListingATensorTheShardLacks() throws IOException {
        Path sharded = writeShardedCopy();
        Path index = sharded.resolve("model.safetensors.index.json");
        Files.writeString(index, Files.readString(index).replace("\"weight_map\": {",
                "\"weight_map\": {\"extra.weight\": \"model-00001-of-00002.safetensors\", "));
        assertThatThrownBy(() -> HuggingFaceModelFolder.open(sharded))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("model-00001-of-00002.safetensors", "extra.weight", "does not hold it");
    }

    @Test
    void missingConfigSaysWhatWasLookedFor() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("noconfig"));
        Files.copy(TestModels.tinyStories656K().resolve("model.safetensors"), dir.resolve("model.safetensors"));
        assertThatThrownBy(() -> HuggingFaceModelFolder.open(dir))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("noconfig", "config.json", "found: model.safetensors");
    }

    @Test
    void missingWeightsSaysWhatWasLookedFor() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("noweights"));
        Files.copy(TestModels.tinyStories656K().resolve("config.json"), dir.resolve("config.json"));
        Files.writeString(dir.resolve("pytorch_model.bin"), "x");
        assertThatThrownBy(() -> HuggingFaceModelFolder.open(dir))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("noweights", "no weights", "model.safetensors", "model.safetensors.index.json",
                        "pytorch_model.bin");
    }

    @Test
    void malformedConfigIsNamed() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("badconfig"));
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 128,");
        assertThatThrownBy(() -> HuggingFaceModelFolder.open(dir))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("config.json", "not valid JSON");
    }

    @Test
    void notAFolder() {
        assertThatThrownBy(() -> HuggingFaceModelFolder.open(tmp.resolve("absent")))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("absent", "not a folder");
    }

    /**
     * Copies the real model's JSON files into a temp folder and splits its tensors over two shard
     * files written by {@link SafetensorsTestFiles}, plus a model.safetensors.index.json.
     */
    private Path writeShardedCopy() throws IOException {
        Path src = TestModels.tinyStories656K();
        Path dir = Files.createDirectories(tmp.resolve("sharded"));
        for (String json : List.of("config.json", "generation_config.json", "tokenizer_config.json")) {
            Files.copy(src.resolve(json), dir.resolve(json));
        }
        JsonObject weightMap = new JsonObject();
        try (SafetensorsFile file = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            List<Entry> first = new ArrayList<>();
            List<Entry> second = new ArrayList<>();
            for (RawTensor t : file.tensors().values()) {
                String shard = first.size() < 10 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                Entry e = new Entry(t.name(), t.type().name(), t.shape(), t.data().toArray(ValueLayout.JAVA_BYTE));
                (first.size() < 10 ? first : second).add(e);
                weightMap.addProperty(t.name(), shard);
            }
            SafetensorsTestFiles.write(dir.resolve("model-00001-of-00002.safetensors"), first);
            SafetensorsTestFiles.write(dir.resolve("model-00002-of-00002.safetensors"), second);
        }
        // Gson writes the map as {"name":"shard",...}, so the text contains "weight_map": { for tests to edit.
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\": {\"total_size\": 2624000}, \"weight_map\": " + weightMap + "}");
        return dir;
    }
}
