package io.qspec.tokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.qspec.format.ModelFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code pre_tokenizer} section of tokenizer.json: splits normalized text into the words that
 * BPE merges within. {@code null} keeps the whole text as one word (Llama-2 files, whose normalizer
 * already turned spaces into "▁"); {@code Metaspace} does that replacement itself. Byte-level
 * models (GPT-2, Llama 3, Qwen2) use {@code ByteLevel}, alone or after regex {@code Split}s in a
 * {@code Sequence}; it spells each word's UTF-8 bytes in {@link ByteLevelAlphabet}.
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

    /** Runs each step on every word the previous steps produced. */
    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean startOfInput) {
            List<String> words = text.isEmpty() ? List.of() : List.of(text);
            for (PreTokenizer step : steps) {
                List<String> next = new ArrayList<>();
                for (int i = 0; i < words.size(); i++) {
                    next.addAll(step.split(words.get(i), startOfInput && i == 0));
                }
                words = next;
            }
            return words;
        }
    }

    /** Splits at the matches of a pattern, treating the matches as {@code behavior} says. */
    record Split(Pattern pattern, SplitBehavior behavior, boolean invert) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean startOfInput) {
            return behavior.split(text, pattern, invert);
        }
    }

    /**
     * Optionally prepends a space (Hugging Face does so for every piece of text between added
     * tokens that does not start with one), optionally splits with the GPT-2 regex, and spells each
     * word's UTF-8 bytes in the byte-level alphabet.
     */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean startOfInput) {
            if (text.isEmpty()) {
                return List.of();
            }
            String prefixed = addPrefixSpace && !text.startsWith(" ") ? " " + text : text;
            List<String> words = useRegex
                    ? SplitBehavior.ISOLATED.split(prefixed, PreTokenizerRegex.gpt2(), false)
                    : List.of(prefixed);
            return words.stream().map(ByteLevelAlphabet::encode).toList();
        }
    }

    static PreTokenizer fromJson(Path source, JsonObject json) {
        if (json == null) {
            return new Whole();
        }
        String type = JsonFields.type(source, json, "pre_tokenizer");
        return switch (type) {
            case "Metaspace" -> metaspace(source, json);
            case "ByteLevel" -> new ByteLevel(JsonFields.optionalBoolean(json, "add_prefix_space", true),
                    JsonFields.optionalBoolean(json, "use_regex", true));
            case "Split" -> split(source, json);
            case "Sequence" -> {
                JsonElement list = json.get("pretokenizers");
                if (list == null || !list.isJsonArray()) {
                    throw new ModelFormatException(source, "pre_tokenizer Sequence has no 'pretokenizers' array");
                }
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonElement e : list.getAsJsonArray()) {
                    if (!e.isJsonObject()) {
                        throw new ModelFormatException(source, "pre_tokenizer Sequence holds a non-object entry: " + e);
                    }
                    steps.add(fromJson(source, e.getAsJsonObject()));
                }
                yield new Sequence(List.copyOf(steps));
            }
            default -> throw JsonFields.unsupported(source, "pre_tokenizer", type);
        };
    }

    private static Split split(Path source, JsonObject json) {
        String where = "pre_tokenizer Split";
        JsonObject patternJson = JsonFields.optionalObject(source, json, "pattern", where);
        Pattern pattern;
        if (patternJson != null && patternJson.has("Regex")) {
            String regex = JsonFields.string(source, patternJson, "Regex", where);
            try {
                pattern = PreTokenizerRegex.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new ModelFormatException(source, where + ": the regex " + regex + " does not compile in Java: "
                        + e.getDescription(), e);
            }
        } else {
            pattern = Pattern.compile(Pattern.quote(JsonFields.stringPattern(source, json, where)));
        }
        String behaviorName = JsonFields.string(source, json, "behavior", where);
        SplitBehavior behavior = SplitBehavior.byJsonName(behaviorName);
        if (behavior == null) {
            throw JsonFields.unsupported(source, where + " behavior", behaviorName);
        }
        return new Split(pattern, behavior, JsonFields.optionalBoolean(json, "invert", false));
    }

    private static Metaspace metaspace(Path source, JsonObject json) {
        String replacement = JsonFields.optionalString(json, "replacement", "\u2581");
        if (replacement.isEmpty()) {  // spaces would vanish, and splitting at "" never advances
            throw new ModelFormatException(source, "pre_tokenizer Metaspace has an empty 'replacement'");
        }
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
