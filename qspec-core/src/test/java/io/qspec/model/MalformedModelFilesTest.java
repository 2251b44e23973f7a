package io.qspec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.QSpecEngine;
import io.qspec.TestModels;
import io.qspec.format.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hyper-parameters, tokenizers and indexes a file may claim, found by fuzzing the two shared models: each must be a
 * {@link ModelFormatException} naming the file and the key or tensor, at once (never an arithmetic exception, an
 * out-of-memory error, a hang, or a failure deferred to the first request).
 */
class MalformedModelFilesTest {
    /** GGUF metadata value types. */
    private static final int UINT32 = 4;
    private static final int INT32 = 5;

    @TempDir
    Path dir;

    @Test
    void ggufHyperParametersOutOfRangeNameTheirKey() throws IOException {
        assertGgufRefused("llama.context_length", 0x8000_0000, "'llama.context_length' is 2147483648");
        assertGgufRefused("llama.attention.head_count", 0, "'llama.attention.head_count' is 0");
        assertGgufRefused("llama.embedding_length", -1, "'llama.embedding_length' is");
        // consistent ranges, an inconsistent model: named as the file's problem, not as an anonymous argument
        assertGgufRefused("llama.attention.head_count_kv", 3, "hyper-parameters do not describe a valid model");
    }

    @Test
    void aHugeLayerCountFailsAtOnceOnTheFirstMissingLayer() throws IOException {
        Path file = ggufWith("llama.block_count", Integer.MAX_VALUE);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () ->
                assertThatThrownBy(() -> Model.load(file)).isInstanceOf(ModelFormatException.class)
                        .hasMessageContaining(file.toString()).hasMessageContaining("blk.5"));
    }

    @Test
    void weightsThatCannotBeQuantizedNameTheirTensor() throws IOException {
        byte[] bytes = Files.readAllBytes(TestModels.stories260K());
        // blk.0.attn_q.weight's F32 bytes read as Q5_1 blocks: scales that overflow FP16, or NaN
        putInt(bytes, tensorTypeAt(bytes, "blk.0.attn_q.weight"), 7);
        Path file = dir.resolve("reinterpreted.gguf");
        Files.write(file, bytes);
        assertThatThrownBy(() -> Model.load(file)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("blk.0.attn_q.weight");
    }

    @Test
    void configJsonHyperParametersOutOfRangeNameTheirKey() throws IOException {
        assertFolderRefused(c -> c.addProperty("num_key_value_heads", 2147483648L), "'num_key_value_heads' is 2147483648");
        assertFolderRefused(c -> c.addProperty("num_attention_heads", 0), "'num_attention_heads' is 0");
        assertFolderRefused(c -> c.addProperty("num_attention_heads", 0.5), "not an integer");
        assertFolderRefused(c -> c.addProperty("head_dim", new java.math.BigDecimal("1e400")), "not an integer");
        assertFolderRefused(c -> c.addProperty("hidden_size", 0), "'hidden_size' is 0");
        Path folder = folderWith(c -> c.addProperty("num_hidden_layers", Integer.MAX_VALUE), t -> { });
        assertTimeoutPreemptively(Duration.ofSeconds(20), () ->
                assertThatThrownBy(() -> Model.load(folder)).isInstanceOf(ModelFormatException.class)
                        .hasMessageContaining("model.layers.2"));
    }

    @Test
    void aNullAmongTheArchitecturesIsIgnored() throws IOException {
        Path folder = folderWith(c -> {
            JsonArray architectures = new JsonArray();
            architectures.add(JsonNull.INSTANCE);
            architectures.add("LlamaForCausalLM");
            c.add("architectures", architectures);
        }, t -> { });
        try (Model model = Model.load(folder)) {
            assertThat(model.config().layers()).isEqualTo(2);
        }
    }

    @Test
    void tokenizersThatCannotWorkAreRefusedWhenLoaded() throws IOException {
        Path hugeId = folderWith(c -> { }, t -> t.getAsJsonObject("model").getAsJsonObject("vocab")
                .addProperty("dre", Integer.MAX_VALUE - 8));
        assertTimeoutPreemptively(Duration.ofSeconds(20), () ->
                assertThatThrownBy(() -> Model.load(hugeId)).isInstanceOf(ModelFormatException.class)
                        .hasMessageContaining("not contiguous").hasMessageContaining("2147483639"));

        Path emptyMarker = folderWith(c -> { }, t -> {
            JsonObject metaspace = new JsonObject();
            metaspace.addProperty("type", "Metaspace");
            metaspace.addProperty("replacement", "");
            metaspace.addProperty("prepend_scheme", "first");
            t.add("pre_tokenizer", metaspace);
        });
        assertThatThrownBy(() -> Model.load(emptyMarker)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("empty 'replacement'");
    }

    @Test
    void aShardNameThatIsNoFileNameIsNamed() throws IOException {
        Path folder = folderWith(c -> { }, t -> { });
        Files.delete(folder.resolve("model.safetensors"));
        JsonObject weightMap = new JsonObject();
        weightMap.addProperty("model.norm.weight", "a\u0000b.safetensors");
        JsonObject index = new JsonObject();
        index.add("weight_map", weightMap);
        Files.writeString(folder.resolve("model.safetensors.index.json"), index.toString());
        assertThatThrownBy(() -> Model.load(folder)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("not a valid file name");
    }

    /** An embedding padded past the tokenizer (common in checkpoints) may yield a padding id: it stands for no text. */
    @Test
    void idsBeyondTheTokenizerDecodeAsNoText() throws IOException {
        Path folder = folderWith(c -> { }, t -> {
            JsonObject model = t.getAsJsonObject("model");
            JsonObject kept = new JsonObject();
            for (String special : new String[] {"<unk>", "<|start_story|>", "<|end_story|>"}) {
                if (model.getAsJsonObject("vocab").has(special)) {
                    kept.add(special, model.getAsJsonObject("vocab").get(special));
                }
            }
            model.add("vocab", kept);
            model.add("merges", new JsonArray());
        });
        try (Model model = Model.load(folder); QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            assertThat(model.tokenizer().vocabSize()).isLessThan(model.config().vocabSize());
            GenerationResult r = engine.generate(GenerationRequest.builder(new int[] {1, 100, 200}).maxTokens(8)
                    .ignoreEos(true).build());
            assertThat(r.generatedTokens()).isEqualTo(8);
        }
    }

    /** A vocabulary with neither the piece, nor byte tokens, nor an unknown token for a character: the request is refused. */
    @Test
    void aPromptTheTokenizerCannotSpellIsAnInvalidRequest() throws IOException {
        byte[] bytes = Files.readAllBytes(TestModels.stories260K());
        byte[] key = "tokenizer.ggml.token_type".getBytes(StandardCharsets.UTF_8);
        ByteBuffer array = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int at = indexOf(bytes, key) + key.length;
        assertThat(array.getInt(at)).as("an array").isEqualTo(9);
        assertThat(array.getInt(at + 4)).as("of int32").isEqualTo(INT32);
        long count = array.getLong(at + 8);
        for (int i = 0; i < count; i++) {
            array.putInt(at + 16 + 4 * i, 5);  // every token UNUSED: no piece, no byte token, no unknown token
        }
        byte[] unknown = "tokenizer.ggml.unknown_token_id".getBytes(StandardCharsets.UTF_8);
        byte[] renamed = "tokenizer.ggml.unknown_token_xx".getBytes(StandardCharsets.UTF_8);  // same length: a key nobody reads
        System.arraycopy(renamed, 0, bytes, indexOf(bytes, unknown), renamed.length);
        Path file = dir.resolve("no-byte-tokens.gguf");
        Files.write(file, bytes);
        try (Model model = Model.load(file); QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            assertThatThrownBy(() -> engine.submit(GenerationRequest.builder("Once upon a time").build(),
                    io.qspec.StreamHandler.NONE))
                    .isInstanceOf(io.qspec.InvalidRequestException.class).hasMessageContaining("cannot be encoded");
        }
    }

    private void assertGgufRefused(String key, int value, String message) throws IOException {
        Path file = ggufWith(key, value);
        assertThatThrownBy(() -> Model.load(file)).as("%s = %d", key, value).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining(message);
    }

    /** A copy of stories260K.gguf with the 32-bit integer value of metadata {@code key} replaced. */
    private Path ggufWith(String key, int value) throws IOException {
        byte[] bytes = Files.readAllBytes(TestModels.stories260K());
        byte[] name = key.getBytes(StandardCharsets.UTF_8);
        int at = indexOf(bytes, name);
        assertThat(ByteBuffer.wrap(bytes, at - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(name.length);
        int type = ByteBuffer.wrap(bytes, at + name.length, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertThat(type).as("type of %s", key).isIn(UINT32, INT32);
        putInt(bytes, at + name.length + 4, value);
        Path file = dir.resolve(key + "-" + Integer.toUnsignedString(value) + ".gguf");
        Files.write(file, bytes);
        return file;
    }

    /** Where the ggml type of tensor {@code name} lies in the header: after its name, rank and dimensions. */
    private static int tensorTypeAt(byte[] bytes, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        int at = indexOf(bytes, n) + n.length;
        int rank = ByteBuffer.wrap(bytes, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        return at + 4 + 8 * rank;
    }

    private static int indexOf(byte[] bytes, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= bytes.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (bytes[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError(new String(pattern, StandardCharsets.UTF_8) + " not found");
    }

    private static void putInt(byte[] bytes, int at, int value) {
        ByteBuffer.wrap(bytes, at, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(value);
    }

    private void assertFolderRefused(Consumer<JsonObject> config, String message) throws IOException {
        Path folder = folderWith(config, t -> { });
        assertThatThrownBy(() -> Model.load(folder)).as(message).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(folder.toString()).hasMessageContaining(message);
    }

    private int folders;

    /** A copy of the TinyStories-656K folder with its config.json and tokenizer.json edited. */
    private Path folderWith(Consumer<JsonObject> config, Consumer<JsonObject> tokenizer) throws IOException {
        Path source = TestModels.tinyStories656K();
        Path folder = Files.createDirectory(dir.resolve("model-" + folders++));
        try (var files = Files.list(source)) {
            for (Path f : files.toList()) {
                Files.copy(f, folder.resolve(f.getFileName()));
            }
        }
        edit(folder.resolve("config.json"), config);
        edit(folder.resolve("tokenizer.json"), tokenizer);
        return folder;
    }

    private static void edit(Path json, Consumer<JsonObject> change) throws IOException {
        json.toFile().setWritable(true);
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        change.accept(o);
        Files.writeString(json, o.toString());
    }
}
