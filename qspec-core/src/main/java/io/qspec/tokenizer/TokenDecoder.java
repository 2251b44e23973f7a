package io.qspec.tokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.qspec.format.ModelFormatException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code decoder} section of tokenizer.json: turns the vocabulary pieces of a token sequence
 * back into text. Each step maps a list of pieces to a list of pieces, as in Hugging Face, so that
 * e.g. {@code Strip} acts per piece and, after {@code Fuse}, on the whole text.
 */
sealed interface TokenDecoder {

    List<String> decode(List<String> pieces);

    /** {@code "decoder": null}: Hugging Face joins the pieces with spaces. */
    record JoinWithSpaces() implements TokenDecoder {
        @Override
        public List<String> decode(List<String> pieces) {
            return List.of(String.join(" ", pieces));
        }
    }

    record Sequence(List<TokenDecoder> steps) implements TokenDecoder {
        @Override
        public List<String> decode(List<String> pieces) {
            for (TokenDecoder step : steps) {
                pieces = step.decode(pieces);
            }
            return pieces;
        }
    }

    /** Replaces a literal in every piece (Llama: "▁" → " "). */
    record Replace(String pattern, String content) implements TokenDecoder {
        @Override
        public List<String> decode(List<String> pieces) {
            return pieces.stream().map(p -> p.replace(pattern, content)).toList();
        }
    }

    /**
     * Turns runs of byte pieces {@code <0xXX>} into the text their bytes encode in UTF-8; a run that
     * is not valid UTF-8 becomes one U+FFFD per byte, as in Hugging Face.
     */
    record ByteFallback() implements TokenDecoder {
        @Override
        public List<String> decode(List<String> pieces) {
            List<String> out = new ArrayList<>(pieces.size());
            ByteArrayOutputStream run = new ByteArrayOutputStream();
            int runLength = 0;
            for (String p : pieces) {
                int b = BpeModel.byteOfPiece(p);
                if (b >= 0) {
                    run.write(b);
                    runLength++;
                    continue;
                }
                flush(run, runLength, out);
                runLength = 0;
                out.add(p);
            }
            flush(run, runLength, out);
            return out;
        }

        private static void flush(ByteArrayOutputStream run, int runLength, List<String> out) {
            if (runLength == 0) {
                return;
            }
            try {
                out.add(StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(run.toByteArray()))
                        .toString());
            } catch (CharacterCodingException e) {
                out.add("\uFFFD".repeat(runLength));
            }
            run.reset();
        }
    }

    /** Joins all pieces into one. */
    record Fuse() implements TokenDecoder {
        @Override
        public List<String> decode(List<String> pieces) {
            return List.of(String.join("", pieces));
        }
    }

    /** Removes up to {@code start} leading and {@code stop} trailing {@code content} characters from each piece. */
    record Strip(String content, int start, int stop) implements TokenDecoder {
        @Override
        public List<String> decode(List<String> pieces) {
            return pieces.stream().map(this::strip).toList();
        }

        private String strip(String p) {
            int from = 0;
            while (from < start && p.startsWith(content, from * content.length())) {
                from++;
            }
            int begin = from * content.length();
            int end = p.length();
            int removed = 0;
            while (removed < stop && end - content.length() >= begin && p.startsWith(content, end - content.length())) {
                end -= content.length();
                removed++;
            }
            return p.substring(begin, end);
        }
    }

    /**
     * Replaces the Metaspace marker by spaces and drops the one space the pre-tokenizer prepended
     * to the first piece. (Hugging Face drops every marker of the first piece; dropping one keeps
     * decode the inverse of encode for input that starts with spaces.)
     */
    record Metaspace(String replacement, boolean prepended) implements TokenDecoder {
        @Override
        public List<String> decode(List<String> pieces) {
            List<String> out = new ArrayList<>(pieces.size());
            for (int i = 0; i < pieces.size(); i++) {
                String p = pieces.get(i);
                if (i == 0 && prepended && p.startsWith(replacement)) {
                    p = p.substring(replacement.length());
                }
                out.add(p.replace(replacement, " "));
            }
            return out;
        }
    }

    /**
     * Byte-level models: turns each piece back into the bytes it spells ({@link ByteLevelAlphabet}),
     * joins them and reads them as UTF-8; bytes that are not valid UTF-8 become U+FFFD, as in
     * Hugging Face.
     */
    record ByteLevel() implements TokenDecoder {
        @Override
        public List<String> decode(List<String> pieces) {
            ByteArrayOutputStream utf8 = new ByteArrayOutputStream();
            pieces.forEach(p -> utf8.writeBytes(ByteLevelAlphabet.decode(p)));
            return List.of(utf8.toString(StandardCharsets.UTF_8));
        }
    }

    /** Whether {@code decoder} is or contains a {@link ByteLevel} step, i.e. the vocabulary is byte-level. */
    static boolean isByteLevel(TokenDecoder decoder) {
        return switch (decoder) {
            case ByteLevel _ -> true;
            case Sequence s -> s.steps().stream().anyMatch(TokenDecoder::isByteLevel);
            default -> false;
        };
    }

    static TokenDecoder fromJson(Path source, JsonObject json) {
        if (json == null) {
            return new JoinWithSpaces();
        }
        String type = JsonFields.type(source, json, "decoder");
        return switch (type) {
            case "Sequence" -> {
                JsonElement list = json.get("decoders");
                if (list == null || !list.isJsonArray()) {
                    throw new ModelFormatException(source, "decoder Sequence has no 'decoders' array");
                }
                List<TokenDecoder> steps = new ArrayList<>();
                for (JsonElement e : list.getAsJsonArray()) {
                    if (!e.isJsonObject()) {
                        throw new ModelFormatException(source, "decoder Sequence holds a non-object entry: " + e);
                    }
                    steps.add(fromJson(source, e.getAsJsonObject()));
                }
                yield new Sequence(List.copyOf(steps));
            }
            case "Replace" -> new Replace(JsonFields.stringPattern(source, json, "decoder Replace"),
                    JsonFields.string(source, json, "content", "decoder Replace"));
            case "ByteFallback" -> new ByteFallback();
            case "ByteLevel" -> new ByteLevel();
            case "Fuse" -> new Fuse();
            case "Strip" -> new Strip(JsonFields.string(source, json, "content", "decoder Strip"),
                    JsonFields.optionalInt(json, "start", 0), JsonFields.optionalInt(json, "stop", 0));
            case "Metaspace" -> {
                String scheme = JsonFields.optionalString(json, "prepend_scheme",
                        JsonFields.optionalBoolean(json, "add_prefix_space", true) ? "always" : "never");
                String replacement = JsonFields.optionalString(json, "replacement", "\u2581");
                if (replacement.isEmpty()) {  // every gap between characters would become a space
                    throw new ModelFormatException(source, "decoder Metaspace has an empty 'replacement'");
                }
                yield new Metaspace(replacement, !scheme.equals("never"));
            }
            default -> throw JsonFields.unsupported(source, "decoder", type);
        };
    }
}
