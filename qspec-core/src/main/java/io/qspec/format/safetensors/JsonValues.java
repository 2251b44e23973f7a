package io.qspec.format.safetensors;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.qspec.format.ModelFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads Hugging Face JSON files and converts Gson trees to the plain Java values that
 * {@link io.qspec.format.ModelMetadata} promises: {@link Long} for numbers written as integer
 * literals that fit a long, {@link Double} for every other number, {@link Boolean}, {@link String},
 * unmodifiable {@link List} and {@link Map}. JSON {@code null} members of objects are dropped, since
 * Hugging Face treats an absent key and a null one alike.
 */
public final class JsonValues {
    private JsonValues() {
    }

    /** Parses {@code file} as one JSON object; any I/O or syntax problem becomes a {@link ModelFormatException} naming it. */
    public static JsonObject readObject(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(file, "cannot be read as UTF-8 text: " + e.getMessage(), e);
        }
        return parseObject(file, text);
    }

    /** Parses {@code text} (the contents of {@code file}) as one JSON object. */
    public static JsonObject parseObject(Path file, String text) {
        JsonElement root;
        try {
            root = JsonParser.parseString(text);
        } catch (JsonParseException | IllegalStateException e) {
            throw new ModelFormatException(file, "is not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isJsonObject()) {
            throw new ModelFormatException(file, "expected a JSON object at the top level but found " + describe(root));
        }
        return root.getAsJsonObject();
    }

    /** Every member of {@code object} as plain Java values, in file order. */
    public static Map<String, Object> toMap(JsonObject object) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : object.entrySet()) {
            if (!e.getValue().isJsonNull()) {
                map.put(e.getKey(), toJava(e.getValue()));
            }
        }
        return Collections.unmodifiableMap(map);
    }

    /** One JSON value as a plain Java value ({@code null} for JSON null). */
    public static Object toJava(JsonElement element) {
        if (element == null || element.isJsonNull()) {
            return null;
        }
        if (element.isJsonObject()) {
            return toMap(element.getAsJsonObject());
        }
        if (element.isJsonArray()) {
            JsonArray array = element.getAsJsonArray();
            List<Object> list = new ArrayList<>(array.size());
            for (JsonElement item : array) {
                list.add(toJava(item));
            }
            return Collections.unmodifiableList(list);
        }
        JsonPrimitive p = element.getAsJsonPrimitive();
        if (p.isBoolean()) {
            return p.getAsBoolean();
        }
        if (p.isString()) {
            return p.getAsString();
        }
        return toNumber(p.getAsString());
    }

    private static Number toNumber(String literal) {
        boolean integerLiteral = literal.chars().noneMatch(c -> c == '.' || c == 'e' || c == 'E');
        if (integerLiteral) {
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException tooLarge) {
                // e.g. tokenizer_config's model_max_length = 1e30 written out in full
            }
        }
        return Double.parseDouble(literal);
    }

    /** A short description of a JSON value's kind, for messages. */
    public static String describe(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return "null";
        }
        if (e.isJsonObject()) {
            return "an object";
        }
        if (e.isJsonArray()) {
            return "an array";
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        return p.isString() ? "the string \"" + p.getAsString() + "\"" : p.isBoolean() ? "a boolean" : "the number " + p;
    }
}
