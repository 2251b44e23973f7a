package io.qspec.tokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.qspec.format.ModelFormatException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code normalizer} section of tokenizer.json: rewrites text before it is split into words.
 * Llama/SentencePiece-style files use {@code Sequence[Prepend("▁"), Replace(" ", "▁")]}.
 */
sealed interface TextNormalizer {

    String normalize(String text);

    /** Leaves text as it is ({@code "normalizer": null}). */
    TextNormalizer IDENTITY = new Sequence(List.of());

    record Sequence(List<TextNormalizer> steps) implements TextNormalizer {
        @Override
        public String normalize(String text) {
            for (TextNormalizer step : steps) {
                text = step.normalize(text);
            }
            return text;
        }
    }

    /** Prepends a fixed string to non-empty text (as Hugging Face does: empty text stays empty). */
    record Prepend(String prefix) implements TextNormalizer {
        @Override
        public String normalize(String text) {
            return text.isEmpty() ? text : prefix + text;
        }
    }

    /** Replaces every occurrence of a literal string. */
    record Replace(String pattern, String content) implements TextNormalizer {
        @Override
        public String normalize(String text) {
            return text.replace(pattern, content);
        }
    }

    /** One of the Unicode normal forms. */
    record UnicodeForm(Normalizer.Form form) implements TextNormalizer {
        @Override
        public String normalize(String text) {
            return Normalizer.normalize(text, form);
        }
    }

    record Lowercase() implements TextNormalizer {
        @Override
        public String normalize(String text) {
            return text.toLowerCase(Locale.ROOT);
        }
    }

    static TextNormalizer fromJson(Path source, JsonObject json) {
        if (json == null) {
            return IDENTITY;
        }
        String where = "normalizer";
        String type = JsonFields.type(source, json, where);
        return switch (type) {
            case "Sequence" -> {
                List<TextNormalizer> steps = new ArrayList<>();
                JsonElement list = json.get("normalizers");
                if (list == null || !list.isJsonArray()) {
                    throw new ModelFormatException(source, "normalizer Sequence has no 'normalizers' array");
                }
                for (JsonElement e : list.getAsJsonArray()) {
                    if (!e.isJsonObject()) {
                        throw new ModelFormatException(source, "normalizer Sequence holds a non-object entry: " + e);
                    }
                    steps.add(fromJson(source, e.getAsJsonObject()));
                }
                yield new Sequence(List.copyOf(steps));
            }
            case "Prepend" -> new Prepend(JsonFields.string(source, json, "prepend", "normalizer Prepend"));
            case "Replace" -> new Replace(JsonFields.stringPattern(source, json, "normalizer Replace"),
                    JsonFields.string(source, json, "content", "normalizer Replace"));
            case "NFC" -> new UnicodeForm(Normalizer.Form.NFC);
            case "NFD" -> new UnicodeForm(Normalizer.Form.NFD);
            case "NFKC" -> new UnicodeForm(Normalizer.Form.NFKC);
            case "NFKD" -> new UnicodeForm(Normalizer.Form.NFKD);
            case "Lowercase" -> new Lowercase();
            default -> throw JsonFields.unsupported(source, "normalizer", type);
        };
    }
}
