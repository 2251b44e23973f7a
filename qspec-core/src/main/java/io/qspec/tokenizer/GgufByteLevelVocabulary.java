package io.qspec.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Rewrites llama.cpp's BPE vocabulary ({@code tokenizer.ggml.model = "gpt2"}) as the equivalent
 * tokenizer.json, so GGUF and Hugging Face byte-level models share one implementation:
 *
 * <ul>
 *   <li>{@code tokenizer.ggml.tokens} with {@code token_type} normal/unused/undefined become the BPE
 *       vocabulary; control (3) and unknown (2) tokens become special added tokens, user-defined (4)
 *       ones plain added tokens, all matched whole before pre-tokenization, as llama.cpp does;</li>
 *   <li>{@code tokenizer.ggml.merges} ("left right", ranked by position) become the merges;</li>
 *   <li>{@code tokenizer.ggml.pre} picks the split regexes and {@code ignore_merges}
 *       ({@link GgufPreTokenizer}; absent means "default"), followed by a regex-free ByteLevel step;
 *       the decoder is ByteLevel;</li>
 *   <li>{@code bos_token_id}, {@code eos_token_id} and {@code add_bos_token} become a tokenizer_config.</li>
 * </ul>
 */
final class GgufByteLevelVocabulary {
    private static final String KEY = "tokenizer.ggml.";

    /** A tokenizer.json and tokenizer_config.json equivalent to the GGUF vocabulary, and the ids they must yield. */
    record Translation(JsonObject tokenizerJson, JsonObject tokenizerConfig, int bosId, int eosId) {
    }

    private GgufByteLevelVocabulary() {
    }

    static Translation translate(ModelMetadata metadata, Path file) {
        String model = metadata.getString(KEY + "model").orElse(null);
        if (!"gpt2".equals(model)) {
            throw new ModelFormatException(file, "metadata '" + KEY + "model' is '" + model
                    + "', but a byte-level BPE vocabulary has 'gpt2'");
        }
        List<Object> tokens = list(metadata, "tokens", file).orElseThrow(() -> missing(file, "tokens"));
        List<Object> merges = list(metadata, "merges", file).orElseThrow(() -> missing(file, "merges"));
        Optional<List<Object>> types = list(metadata, "token_type", file);
        if (types.isPresent() && types.get().size() != tokens.size()) {
            throw new ModelFormatException(file, "metadata '" + KEY + "token_type' has " + types.get().size()
                    + " entries but '" + KEY + "tokens' has " + tokens.size() + "; they must have one entry per token");
        }

        JsonObject vocab = new JsonObject();
        JsonArray added = new JsonArray();
        for (int id = 0; id < tokens.size(); id++) {
            if (!(tokens.get(id) instanceof String piece)) {
                throw new ModelFormatException(file, "metadata '" + KEY + "tokens' entry " + id + " is not a string");
            }
            VocabularyTokenType type = types.isEmpty() ? VocabularyTokenType.NORMAL : tokenType(types.get().get(id), id, file);
            switch (type) {
                case CONTROL, UNKNOWN, USER_DEFINED -> added.add(addedToken(id, piece, type != VocabularyTokenType.USER_DEFINED));
                case NORMAL, UNDEFINED, UNUSED -> vocab.addProperty(piece, id);
                case BYTE -> throw new ModelFormatException(file, "token " + id + " '" + piece
                        + "' is a byte token (<0xXX>), which byte-level 'gpt2' vocabularies do not have");
            }
        }
        if (vocab.size() + added.size() != tokens.size()) {
            throw new ModelFormatException(file, "metadata '" + KEY + "tokens' lists the same piece twice;"
                    + " byte-level vocabularies need distinct pieces");
        }

        JsonArray mergePairs = new JsonArray();
        for (int rank = 0; rank < merges.size(); rank++) {
            if (!(merges.get(rank) instanceof String merge) || merge.indexOf(' ', 1) < 0) {
                throw new ModelFormatException(file, "metadata '" + KEY + "merges' entry " + rank
                        + " is not two pieces separated by a space: " + merges.get(rank));
            }
            // As llama.cpp: the separator is the first space after the first character.
            int space = merge.indexOf(' ', 1);
            JsonArray pair = new JsonArray();
            pair.add(merge.substring(0, space));
            pair.add(merge.substring(space + 1));
            mergePairs.add(pair);
        }

        String preName = metadata.getString(KEY + "pre").orElse("default");
        GgufPreTokenizer pre = GgufPreTokenizer.byName(preName).orElseThrow(() -> new ModelFormatException(file,
                "metadata '" + KEY + "pre' is '" + preName + "', a pre-tokenizer QSpec does not know; supported: "
                        + String.join(", ", GgufPreTokenizer.allNames())));
        JsonObject modelJson = new JsonObject();
        modelJson.addProperty("type", "BPE");
        modelJson.addProperty("ignore_merges", pre.ignoreMerges);
        modelJson.add("vocab", vocab);
        modelJson.add("merges", mergePairs);

        JsonObject json = new JsonObject();
        json.add("added_tokens", added);
        json.add("pre_tokenizer", preTokenizer(pre));
        json.add("decoder", typed("ByteLevel"));
        json.add("model", modelJson);

        int bosId = tokenId(metadata, "bos_token_id", tokens.size(), file);
        int eosId = tokenId(metadata, "eos_token_id", tokens.size(), file);
        JsonObject config = new JsonObject();
        if (bosId >= 0) {
            config.addProperty("bos_token", (String) tokens.get(bosId));
        }
        if (eosId >= 0) {
            config.addProperty("eos_token", (String) tokens.get(eosId));
        }
        Object addBos = metadata.get(KEY + "add_bos_token").orElse(pre.addBosByDefault);
        if (!(addBos instanceof Boolean flag)) {
            throw new ModelFormatException(file, "metadata '" + KEY + "add_bos_token' is " + addBos + "; expected a boolean");
        }
        config.addProperty("add_bos_token", flag);
        return new Translation(json, config, bosId, eosId);
    }

    /** The regex Splits llama.cpp applies for {@code pre}, then the bytes-to-alphabet step. */
    private static JsonObject preTokenizer(GgufPreTokenizer pre) {
        JsonArray steps = new JsonArray();
        for (String regex : pre.regexes) {
            JsonObject split = typed("Split");
            JsonObject pattern = new JsonObject();
            pattern.addProperty("Regex", regex);
            split.add("pattern", pattern);
            split.addProperty("behavior", "Isolated");
            split.addProperty("invert", false);
            steps.add(split);
        }
        JsonObject byteLevel = typed("ByteLevel");
        byteLevel.addProperty("add_prefix_space", false);
        byteLevel.addProperty("use_regex", false);
        steps.add(byteLevel);
        JsonObject sequence = typed("Sequence");
        sequence.add("pretokenizers", steps);
        return sequence;
    }

    private static JsonObject typed(String type) {
        JsonObject o = new JsonObject();
        o.addProperty("type", type);
        return o;
    }

    private static JsonObject addedToken(int id, String content, boolean special) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("content", content);
        o.addProperty("special", special);
        o.addProperty("normalized", false);
        return o;
    }

    private static VocabularyTokenType tokenType(Object value, int id, Path file) {
        return (value instanceof Long number ? VocabularyTokenType.byId(number) : Optional.<VocabularyTokenType>empty())
                .orElseThrow(() -> new ModelFormatException(file, "metadata '" + KEY + "token_type' entry " + id
                        + " is " + value + "; expected 0..6 (undefined, normal, unknown, control, user-defined, unused, byte)"));
    }

    /** A token id, or -1 when absent or set to the "none" value (uint32 0xFFFFFFFF or -1). */
    private static int tokenId(ModelMetadata metadata, String name, int vocabSize, Path file) {
        Optional<Object> value = metadata.get(KEY + name);
        if (value.isEmpty()) {
            return -1;
        }
        if (!(value.get() instanceof Long id)) {
            throw new ModelFormatException(file, "metadata '" + KEY + name + "' is " + value.get() + "; expected an integer token id");
        }
        if (id == -1 || id == 0xFFFF_FFFFL) {
            return -1;
        }
        if (id < 0 || id >= vocabSize) {
            throw new ModelFormatException(file, "metadata '" + KEY + name + "' is " + id
                    + ", outside the vocabulary of " + vocabSize + " tokens");
        }
        return (int) (long) id;
    }

    private static Optional<List<Object>> list(ModelMetadata metadata, String name, Path file) {
        Optional<Object> value = metadata.get(KEY + name);
        if (value.isPresent() && !(value.get() instanceof List<?>)) {
            throw new ModelFormatException(file, "metadata '" + KEY + name + "' is not an array");
        }
        return metadata.getList(KEY + name);
    }

    private static ModelFormatException missing(Path file, String name) {
        return new ModelFormatException(file, "metadata '" + KEY + name + "' is missing; a byte-level BPE vocabulary needs it");
    }
}
