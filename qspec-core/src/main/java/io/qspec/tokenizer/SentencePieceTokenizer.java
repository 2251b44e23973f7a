package io.qspec.tokenizer;

import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The SentencePiece BPE tokenizer of Llama-family GGUF models ({@code tokenizer.ggml.model = "llama"}),
 * behaving like llama.cpp and llama2.c:
 *
 * <ul>
 *   <li>encoding prepends a space (the "dummy prefix"), replaces spaces by {@code ▁} (U+2581), starts
 *       from single code points and merges adjacent pairs by highest piece score
 *       ({@link SentencePieceMerges}); code points the vocabulary lacks become byte tokens
 *       {@code <0xXX>} of their UTF-8 bytes;</li>
 *   <li>decoding turns {@code ▁} back into spaces and byte tokens into raw bytes, drops control
 *       tokens (BOS/EOS), unknown and unused tokens, and removes the one space the dummy prefix added at the start of the
 *       sequence, so {@code decode(encode(s, false))} equals {@code s}.</li>
 * </ul>
 *
 * <p>As in llama.cpp, a literal {@code ▁} in the input is indistinguishable from an escaped space
 * and decodes as a space. User-defined tokens are only produced by merging, not matched verbatim
 * ahead of BPE as llama.cpp does for special tokens. Immutable and thread-safe.
 */
public final class SentencePieceTokenizer implements Tokenizer {
    private static final char SPACE_MARKER = '\u2581';
    private static final String KEY = "tokenizer.ggml.";

    private final String[] pieces;
    private final float[] scores;
    private final VocabularyTokenType[] types;
    private final byte[][] bytes;
    private final Map<String, Integer> mergeableIds;
    private final int[] byteTokenIds;
    private final int bosId;
    private final int eosId;
    private final int unknownId;
    private final boolean addBosByDefault;
    private final boolean addSpacePrefix;

    /** A tokenizer over a validated vocabulary; {@code bosId}, {@code eosId}, {@code unknownId} are -1 when absent. */
    SentencePieceTokenizer(List<String> pieces, float[] scores, VocabularyTokenType[] types, int bosId, int eosId,
                           int unknownId, boolean addBosByDefault, boolean addSpacePrefix) {
        int n = pieces.size();
        this.pieces = pieces.toArray(String[]::new);
        this.scores = scores.clone();
        this.types = types.clone();
        this.bosId = bosId;
        this.eosId = eosId;
        this.unknownId = unknownId;
        this.addBosByDefault = addBosByDefault;
        this.addSpacePrefix = addSpacePrefix;
        this.bytes = new byte[n][];
        this.mergeableIds = HashMap.newHashMap(n);
        this.byteTokenIds = new int[256];
        Arrays.fill(byteTokenIds, -1);
        for (int id = 0; id < n; id++) {
            String piece = this.pieces[id];
            VocabularyTokenType type = this.types[id];
            bytes[id] = switch (type) {
                case BYTE -> new byte[] {(byte) parseBytePiece(piece)};
                case CONTROL, UNKNOWN, UNUSED -> new byte[0];
                case USER_DEFINED -> piece.getBytes(StandardCharsets.UTF_8);
                case NORMAL, UNDEFINED -> piece.replace(SPACE_MARKER, ' ').getBytes(StandardCharsets.UTF_8);
            };
            if (type == VocabularyTokenType.BYTE && byteTokenIds[parseBytePiece(piece)] < 0) {
                byteTokenIds[parseBytePiece(piece)] = id;
            }
            if (type.mergeable()) {
                mergeableIds.putIfAbsent(piece, id);   // the first of duplicate pieces wins
            }
        }
    }

    /**
     * Builds the tokenizer from GGUF metadata: {@code tokenizer.ggml.tokens} and {@code .scores}
     * (required, same length), {@code .token_type} (optional; inferred from the pieces when absent),
     * {@code .bos_token_id}, {@code .eos_token_id}, {@code .unknown_token_id},
     * {@code .add_bos_token} and {@code .add_space_prefix} (optional).
     *
     * @param forMessages the model file, named in error messages
     * @throws ModelFormatException when the metadata is missing, of the wrong kind, or inconsistent
     */
    public static SentencePieceTokenizer fromGguf(ModelMetadata metadata, Path forMessages) {
        Object model = metadata.get(KEY + "model").orElseThrow(() -> new ModelFormatException(forMessages,
                "metadata '" + KEY + "model' is missing; this file has no tokenizer"));
        if (!"llama".equals(model)) {
            throw new ModelFormatException(forMessages, "metadata '" + KEY + "model' is '" + model
                    + "', but SentencePieceTokenizer reads only 'llama' (SentencePiece BPE) vocabularies");
        }
        List<Object> tokenList = requireList(metadata, "tokens", forMessages);
        List<Object> scoreList = requireList(metadata, "scores", forMessages);
        int n = tokenList.size();
        if (n == 0) {
            throw new ModelFormatException(forMessages, "metadata '" + KEY + "tokens' is empty");
        }
        if (scoreList.size() != n) {
            throw new ModelFormatException(forMessages, "metadata '" + KEY + "scores' has " + scoreList.size()
                    + " entries but '" + KEY + "tokens' has " + n + "; they must have one entry per token");
        }
        List<String> pieces = new ArrayList<>(n);
        float[] scores = new float[n];
        for (int id = 0; id < n; id++) {
            if (!(tokenList.get(id) instanceof String piece)) {
                throw new ModelFormatException(forMessages, "metadata '" + KEY + "tokens' entry " + id
                        + " is " + describe(tokenList.get(id)) + "; expected a string");
            }
            if (!(scoreList.get(id) instanceof Number score)) {
                throw new ModelFormatException(forMessages, "metadata '" + KEY + "scores' entry " + id
                        + " is " + describe(scoreList.get(id)) + "; expected a number");
            }
            pieces.add(piece);
            scores[id] = score.floatValue();
        }
        int bosId = optionalTokenId(metadata, "bos_token_id", n, forMessages);
        int eosId = optionalTokenId(metadata, "eos_token_id", n, forMessages);
        int unknownId = optionalTokenId(metadata, "unknown_token_id", n, forMessages);
        VocabularyTokenType[] types = tokenTypes(metadata, pieces, bosId, eosId, unknownId, forMessages);
        boolean addBos = booleanOrDefault(metadata, "add_bos_token", true, forMessages);
        boolean addSpacePrefix = booleanOrDefault(metadata, "add_space_prefix", true, forMessages);
        return new SentencePieceTokenizer(pieces, scores, types, bosId, eosId, unknownId, addBos, addSpacePrefix);
    }

    private static List<Object> requireList(ModelMetadata metadata, String name, Path file) {
        Object value = metadata.get(KEY + name).orElseThrow(() -> new ModelFormatException(file,
                "metadata '" + KEY + name + "' is missing; a SentencePiece vocabulary needs it"));
        if (!(value instanceof List<?> list)) {
            throw new ModelFormatException(file, "metadata '" + KEY + name + "' is " + describe(value)
                    + "; expected an array");
        }
        @SuppressWarnings("unchecked")
        List<Object> objects = (List<Object>) list;
        return objects;
    }

    /** A token id, or -1 when absent or set to the "none" value (uint32 0xFFFFFFFF or -1). */
    private static int optionalTokenId(ModelMetadata metadata, String name, int vocabSize, Path file) {
        Optional<Object> value = metadata.get(KEY + name);
        if (value.isEmpty()) {
            return -1;
        }
        if (!(value.get() instanceof Long id)) {
            throw new ModelFormatException(file, "metadata '" + KEY + name + "' is " + describe(value.get())
                    + "; expected an integer token id");
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

    private static VocabularyTokenType[] tokenTypes(ModelMetadata metadata, List<String> pieces, int bosId,
                                                    int eosId, int unknownId, Path file) {
        int n = pieces.size();
        VocabularyTokenType[] types = new VocabularyTokenType[n];
        Optional<Object> stored = metadata.get(KEY + "token_type");
        if (stored.isEmpty()) {
            // older conversions: recognise byte pieces and the special ids by themselves
            for (int id = 0; id < n; id++) {
                types[id] = id == bosId || id == eosId ? VocabularyTokenType.CONTROL
                        : id == unknownId ? VocabularyTokenType.UNKNOWN
                        : parseBytePiece(pieces.get(id)) >= 0 ? VocabularyTokenType.BYTE
                        : VocabularyTokenType.NORMAL;
            }
            return types;
        }
        List<Object> list = requireList(metadata, "token_type", file);
        if (list.size() != n) {
            throw new ModelFormatException(file, "metadata '" + KEY + "token_type' has " + list.size()
                    + " entries but '" + KEY + "tokens' has " + n + "; they must have one entry per token");
        }
        for (int id = 0; id < n; id++) {
            Object value = list.get(id);
            int token = id;
            types[id] = (value instanceof Long number ? VocabularyTokenType.byId(number) : Optional.<VocabularyTokenType>empty())
                    .orElseThrow(() -> new ModelFormatException(file, "metadata '" + KEY + "token_type' entry "
                            + token + " is " + describe(value) + "; expected 0..6 (undefined, normal, unknown,"
                            + " control, user-defined, unused, byte)"));
            if (types[id] == VocabularyTokenType.BYTE && parseBytePiece(pieces.get(id)) < 0) {
                throw new ModelFormatException(file, "token " + id + " '" + pieces.get(id)
                        + "' is marked as a byte token but is not of the form <0xXX>");
            }
        }
        return types;
    }

    private static boolean booleanOrDefault(ModelMetadata metadata, String name, boolean fallback, Path file) {
        Optional<Object> value = metadata.get(KEY + name);
        if (value.isEmpty()) {
            return fallback;
        }
        if (!(value.get() instanceof Boolean flag)) {
            throw new ModelFormatException(file, "metadata '" + KEY + name + "' is " + describe(value.get())
                    + "; expected a boolean");
        }
        return flag;
    }

    private static String describe(Object value) {
        return value == null ? "null" : value.getClass().getSimpleName() + " " + abbreviate(String.valueOf(value));
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /** The byte of a piece {@code <0xXX>}, or -1 for any other piece. */
    static int parseBytePiece(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(piece.charAt(3), 16);
        int lo = Character.digit(piece.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        IntBuffer ids = new IntBuffer(text.length() + 2);
        if (addBos && bosId >= 0) {
            ids.add(bosId);
        }
        if (text.isEmpty()) {
            return ids.toArray();
        }
        String escaped = (addSpacePrefix ? String.valueOf(SPACE_MARKER) : "") + text.replace(' ', SPACE_MARKER);
        for (String segment : SentencePieceMerges.segment(escaped, mergeableIds, scores)) {
            Integer id = mergeableIds.get(segment);
            if (id != null) {
                ids.add(id);
                continue;
            }
            byte[] utf8 = segment.getBytes(StandardCharsets.UTF_8);
            if (hasByteTokensFor(utf8)) {
                for (byte b : utf8) {
                    ids.add(byteTokenIds[b & 0xFF]);
                }
            } else if (unknownId >= 0) {
                ids.add(unknownId);
            } else {
                throw new IllegalArgumentException("cannot encode '" + segment
                        + "': the vocabulary has neither this piece, nor byte tokens for it, nor an unknown token");
            }
        }
        return ids.toArray();
    }

    private boolean hasByteTokensFor(byte[] utf8) {
        for (byte b : utf8) {
            if (byteTokenIds[b & 0xFF] < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Text of a whole sequence: one leading space, which encoding's dummy prefix added to the first
     * piece, is removed (as llama2.c does after BOS).
     */
    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean atStart = true;
        for (int id : ids) {
            byte[] b = bytesOf(id);
            if (b.length == 0) {
                continue;
            }
            boolean dropPrefixSpace = atStart && addSpacePrefix && b[0] == ' '
                    && types[id] != VocabularyTokenType.BYTE;
            out.write(b, dropPrefixSpace ? 1 : 0, dropPrefixSpace ? b.length - 1 : b.length);
            atStart = false;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * {@inheritDoc} Byte tokens give their single byte, control tokens nothing, other pieces their
     * UTF-8 with {@code ▁} as a space. The first piece of an encoded text carries the dummy-prefix
     * space, which {@link #decode} removes; streaming decoders should drop it the same way.
     */
    @Override
    public byte[] tokenBytes(int id) {
        return bytesOf(id).clone();
    }

    private byte[] bytesOf(int id) {
        checkId(id);
        return bytes[id];
    }

    @Override
    public String tokenText(int id) {
        checkId(id);
        return pieces[id];
    }

    /** Score of token {@code id}: its merge priority (higher merges first). */
    public float tokenScore(int id) {
        checkId(id);
        return scores[id];
    }

    @Override
    public OptionalInt bosId() {
        return bosId >= 0 ? OptionalInt.of(bosId) : OptionalInt.empty();
    }

    @Override
    public OptionalInt eosId() {
        return eosId >= 0 ? OptionalInt.of(eosId) : OptionalInt.empty();
    }

    /** Whether the model expects BOS at the start of a prompt ({@code tokenizer.ggml.add_bos_token}, true when absent). */
    public boolean addBosByDefault() {
        return addBosByDefault;
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + pieces.length);
        }
    }

    @Override
    public String toString() {
        return "SentencePieceTokenizer[" + pieces.length + " tokens, bos=" + bosId + ", eos=" + eosId + "]";
    }

    /** A growable int array, to avoid boxing every id. */
    private static final class IntBuffer {
        private int[] values;
        private int size;

        IntBuffer(int capacity) {
            values = new int[Math.max(4, capacity)];
        }

        void add(int v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
