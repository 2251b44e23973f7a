package io.qspec.tokenizer;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code pre_tokenizer} section of tokenizer.json: splits normalized text into the words that
 * BPE merges within. {@code null} keeps the whole text as one word (Llama-2 files, whose normalizer
 * already turned spaces into "▁"); {@code Metaspace} does that replacement itself.
 */
sealed interface PreTokenizer {

    /**
     * Words of {@code text}; {@code startOfInput} says whether {@code text} begins the whole input
     * (Metaspace's prepend scheme "first" adds the marker only there).
     */
    List<String> split(String text, boolean startOfInput);

    /** {@code "pre_tokenizer": null}: one word. */
    record Whole() implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean startOfInput) {
            return text.isEmpty() ? List.of() : List.of(text);
        }
    }

    /** When Metaspace puts the replacement character in front of a piece of text. */
    enum PrependScheme { ALWAYS, FIRST, NEVER }

    /**
     * Replaces spaces by {@code replacement}, prepends it per the scheme, and (with {@code split})
     * starts a new word at each replacement character.
     */
    record Metaspace(String replacement, PrependScheme scheme, boolean split) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean startOfInput) {
            if (text.isEmpty()) {
                return List.of();
            }
            String s = text.replace(" ", replacement);
            boolean prepend = scheme == PrependScheme.ALWAYS || (scheme == PrependScheme.FIRST && startOfInput);
            if (prepend && !s.startsWith(replacement)) {
                s = replacement + s;
            }
            if (!split) {
                return List.of(s);
            }
            // Each word keeps its leading marker ("▁Hello", "▁world"), like Hugging Face's MergedWithNext.
            List<String> words = new ArrayList<>();
            int start = 0;
            int at = s.indexOf(replacement, 1);
            while (at > 0) {
                words.add(s.substring(start, at));
                start = at;
                at = s.indexOf(replacement, at + replacement.length());
            }
            words.add(s.substring(start));
            return words;
        }
    }

    static PreTokenizer fromJson(Path source, JsonObject json) {
        if (json == null) {
            return new Whole();
        }
        String type = JsonFields.type(source, json, "pre_tokenizer");
        if (!type.equals("Metaspace")) {
            throw JsonFields.unsupported(source, "pre_tokenizer", type);
        }
        String replacement = JsonFields.optionalString(json, "replacement", "\u2581");
        // Files written before prepend_scheme existed say add_prefix_space, which meant "always".
        String defaultScheme = JsonFields.optionalBoolean(json, "add_prefix_space", true) ? "always" : "never";
        PrependScheme scheme = switch (JsonFields.optionalString(json, "prepend_scheme", defaultScheme)) {
            case "always" -> PrependScheme.ALWAYS;
            case "first" -> PrependScheme.FIRST;
            case "never" -> PrependScheme.NEVER;
            default -> throw JsonFields.unsupported(source, "pre_tokenizer Metaspace prepend_scheme",
                    JsonFields.optionalString(json, "prepend_scheme", "?"));
        };
        return new Metaspace(replacement, scheme, JsonFields.optionalBoolean(json, "split", true));
    }
}
