package io.qspec.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE vocabulary small enough to work out every id by hand, written both as a Llama-3
 * style tokenizer.json and as the equivalent GGUF metadata.
 *
 * <p>Ids 0..255 are the single bytes: id {@code b} is the byte-alphabet character of byte {@code b}
 * (so 'h' is 104, ' ' is "Ġ" = 32, '\n' is "Ċ" = 10). Then the merges, by rank, and their results:
 * <pre>
 *   rank 0: h + e      → "he"      256
 *   rank 1: l + l      → "ll"      257
 *   rank 2: l + o      → "lo"      258
 *   rank 3: he + ll    → "hell"    259
 *   rank 4: hell + o   → "hello"   260
 *   rank 5: Ġ + hello  → "Ġhello"  261
 * </pre>
 * then the added tokens {@code <|begin_of_text|>} 262 and {@code <|end_of_text|>} 263 (special) and
 * {@code <think>} 264 (not special), and last "Ġhi" 265, which no merge produces: only
 * {@code ignore_merges} can yield it.
 */
final class ByteLevelTinyVocab {
    static final int HE = 256;
    static final int LL = 257;
    static final int LO = 258;
    static final int HELL = 259;
    static final int HELLO = 260;
    static final int SPACE_HELLO = 261;
    static final int BEGIN = 262;
    static final int END = 263;
    static final int THINK = 264;
    static final int SPACE_HI = 265;

    static final String[][] MERGES = {{"h", "e"}, {"l", "l"}, {"l", "o"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "hello"}};

    private ByteLevelTinyVocab() {
    }

    /** Every piece in id order. */
    static List<String> pieces() {
        List<String> pieces = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            pieces.add(String.valueOf(ByteLevelAlphabet.charOf(b)));
        }
        pieces.addAll(List.of("he", "ll", "lo", "hell", "hello", "Ġhello", "<|begin_of_text|>", "<|end_of_text|>",
                "<think>", "Ġhi"));
        return pieces;
    }

    /** The tokenizer.json of a Llama-3 style model: Split(regex) + ByteLevel, ByteLevel decoder, ignore_merges. */
    static JsonObject tokenizerJson(String splitRegex, boolean ignoreMerges) {
        JsonObject vocab = new JsonObject();
        List<String> pieces = pieces();
        for (int id = 0; id < pieces.size(); id++) {
            if (id < BEGIN || id > THINK) {
                vocab.addProperty(pieces.get(id), id);
            }
        }
        JsonArray merges = new JsonArray();
        for (String[] m : MERGES) {
            JsonArray pair = new JsonArray();
            pair.add(m[0]);
            pair.add(m[1]);
            merges.add(pair);
        }
        JsonObject root = JsonParser.parseString("""
                {"version": "1.0",
                 "added_tokens": [
                   {"id": 262, "content": "<|begin_of_text|>", "normalized": false, "special": true},
                   {"id": 263, "content": "<|end_of_text|>", "normalized": false, "special": true},
                   {"id": 264, "content": "<think>", "normalized": false, "special": false}],
                 "normalizer": null,
                 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                   {"type": "Split", "pattern": {"Regex": "REGEX"}, "behavior": "Isolated", "invert": false},
                   {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
                 "post_processor": {"type": "Sequence", "processors": [
                   {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
                   {"type": "TemplateProcessing",
                    "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]}]},
                 "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
                 "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                   "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false}}
                """).getAsJsonObject();
        root.getAsJsonObject("pre_tokenizer").getAsJsonArray("pretokenizers").get(0).getAsJsonObject()
                .getAsJsonObject("pattern").addProperty("Regex", splitRegex);
        JsonObject model = root.getAsJsonObject("model");
        model.addProperty("ignore_merges", ignoreMerges);
        model.add("vocab", vocab);
        model.add("merges", merges);
        return root;
    }

    /** The same vocabulary as llama.cpp writes it into a GGUF file with {@code tokenizer.ggml.model = "gpt2"}. */
    static Map<String, Object> ggufMetadata(String pre) {
        List<Object> tokens = new ArrayList<>(pieces());
        List<Object> types = new ArrayList<>();
        for (int id = 0; id < tokens.size(); id++) {
            types.add(id == BEGIN || id == END ? 3L : id == THINK ? 4L : 1L);
        }
        List<Object> merges = new ArrayList<>();
        for (String[] m : MERGES) {
            merges.add(m[0] + " " + m[1]);
        }
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("general.architecture", "llama");
        md.put("tokenizer.ggml.model", "gpt2");
        md.put("tokenizer.ggml.pre", pre);
        md.put("tokenizer.ggml.tokens", tokens);
        md.put("tokenizer.ggml.token_type", types);
        md.put("tokenizer.ggml.merges", merges);
        md.put("tokenizer.ggml.bos_token_id", (long) BEGIN);
        md.put("tokenizer.ggml.eos_token_id", (long) END);
        md.put("tokenizer.ggml.add_bos_token", true);
        return md;
    }
}
