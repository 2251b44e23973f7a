package io.qspec.tokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.qspec.format.ModelFormatException;
import io.qspec.format.safetensors.JsonValues;
import java.nio.file.Path;

/** Typed access to members of tokenizer.json components, failing with messages that name the file and component. */
final class JsonFields {
    private JsonFields() {
    }

    static String string(Path source, JsonObject o, String key, String where) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new ModelFormatException(source, where + ": expected a string '" + key + "' but found " + JsonValues.describe(e));
        }
        return e.getAsString();
    }

    static String optionalString(JsonObject o, String key, String fallback) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : fallback;
    }

    static boolean optionalBoolean(JsonObject o, String key, boolean fallback) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean() ? e.getAsBoolean() : fallback;
    }

    static int optionalInt(JsonObject o, String key, int fallback) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsInt() : fallback;
    }

    /** The component object at {@code o.key}, or null when the member is absent or JSON null. */
    static JsonObject optionalObject(Path source, JsonObject o, String key, String where) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonObject()) {
            throw new ModelFormatException(source, where + ": expected '" + key + "' to be an object but found " + JsonValues.describe(e));
        }
        return e.getAsJsonObject();
    }

    /** The {@code type} member of a tokenizer.json component. */
    static String type(Path source, JsonObject component, String where) {
        return string(source, component, "type", where);
    }

    /**
     * The literal of a Replace/Split {@code pattern}: {@code {"String": "x"}}. Regex patterns are
     * refused here (normalizer and decoder Replace); only pre-tokenizer Splits compile regexes,
     * through {@link PreTokenizerRegex}, where their Unicode semantics are tested.
     */
    static String stringPattern(Path source, JsonObject component, String where) {
        JsonObject pattern = optionalObject(source, component, "pattern", where);
        if (pattern == null || !pattern.has("String")) {
            throw new ModelFormatException(source, where + ": only literal {\"String\": ...} patterns are supported, found "
                    + (pattern == null ? "none" : pattern.toString()));
        }
        return string(source, pattern, "String", where);
    }

    static ModelFormatException unsupported(Path source, String section, String type) {
        return new ModelFormatException(source, section + " of type '" + type
                + "' is not supported by BpeTokenizer (it reads SentencePiece-style and byte-level BPE tokenizers)");
    }
}
