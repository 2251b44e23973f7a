package io.qspec.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import io.qspec.format.safetensors.JsonValues;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A byte-pair-encoding {@link Tokenizer} read from a Hugging Face {@code tokenizer.json}, in either
 * flavour: SentencePiece-style (Llama 2: "▁" for spaces, {@code <0xXX>} byte fallback pieces) or
 * byte-level (GPT-2, Llama 3, Qwen2: regex {@code Split} and {@code ByteLevel} pre-tokenizers, a
 * vocabulary spelled in GPT-2's byte alphabet, lossless for every string). The byte-level
 * vocabularies of GGUF files ({@code tokenizer.ggml.model = "gpt2"}) are read by
 * {@link #fromGguf}. Encoding runs
 * the file's pipeline: added tokens are cut out whole, the rest is normalized, pre-tokenized into
 * words and merged by rank; decoding runs the file's decoder. BOS/EOS come from
 * {@code tokenizer_config.json} or {@code special_tokens_map.json}. Instances are immutable and
 * thread-safe. Components the file names but this class does not implement are refused with a
 * {@link ModelFormatException} naming the component type.
 */
public final class BpeTokenizer implements Tokenizer {
    /** The tokenizer file of a Hugging Face model folder. */
    public static final String TOKENIZER_JSON = "tokenizer.json";
    private static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    private static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";

    private final BpeModel model;
    private final TextNormalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final TokenDecoder decoder;
    /** Added tokens matched in raw text and those matched after normalization. */
    private final AddedTokenSplitter rawSplitter;
    private final AddedTokenSplitter normalizedSplitter;
    private final String[] pieces;
    /** Vocabulary pieces and added tokens' contents → id (an added token wins over an equal piece). */
    private final Map<String, Integer> idsByPiece;
    private final boolean[] special;
    private final byte[][] bytes;
    private final OptionalInt bosId;
    private final OptionalInt eosId;
    private final boolean addBosByDefault;
    /** Whether pieces are spelled in {@link ByteLevelAlphabet} rather than with "▁" and byte pieces. */
    private final boolean byteLevel;

    private BpeTokenizer(Path source, JsonObject json, JsonObject tokenizerConfig, JsonObject specialTokensMap) {
        JsonObject modelJson = JsonFields.optionalObject(source, json, "model", "tokenizer.json");
        if (modelJson == null) {
            throw new ModelFormatException(source, "has no 'model' section; is this a Hugging Face tokenizer.json?");
        }
        this.model = BpeModel.fromJson(source, modelJson);
        this.normalizer = TextNormalizer.fromJson(source, JsonFields.optionalObject(source, json, "normalizer", "tokenizer.json"));
        this.preTokenizer = PreTokenizer.fromJson(source, JsonFields.optionalObject(source, json, "pre_tokenizer", "tokenizer.json"));
        this.decoder = TokenDecoder.fromJson(source, JsonFields.optionalObject(source, json, "decoder", "tokenizer.json"));
        this.byteLevel = TokenDecoder.isByteLevel(decoder);

        List<AddedToken> added = readAddedTokens(source, json);
        int maxId = model.maxId();
        for (AddedToken t : added) {
            maxId = Math.max(maxId, t.id());
        }
        // ids must run 0..n-1: one past the number of entries cannot, and must not size the arrays below
        if ((long) maxId >= (long) model.vocab().size() + added.size()) {
            throw new ModelFormatException(source, "vocabulary ids are not contiguous: the largest id is " + maxId
                    + " but there are only " + (model.vocab().size() + added.size()) + " tokens");
        }
        pieces = new String[maxId + 1];
        special = new boolean[maxId + 1];
        model.vocab().forEach((piece, id) -> pieces[id] = piece);
        for (AddedToken t : added) {
            pieces[t.id()] = t.content();
            special[t.id()] = t.special();
        }
        Map<String, Integer> ids = new HashMap<>(model.vocab());
        added.forEach(t -> ids.put(t.content(), t.id()));
        idsByPiece = Map.copyOf(ids);
        for (int id = 0; id < pieces.length; id++) {
            if (pieces[id] == null) {
                throw new ModelFormatException(source, "vocabulary ids are not contiguous: no token has id " + id
                        + " (largest id is " + maxId + ")");
            }
        }
        bytes = new byte[pieces.length][];
        for (int id = 0; id < pieces.length; id++) {
            bytes[id] = bytesOf(id);
        }
        rawSplitter = new AddedTokenSplitter(added.stream().filter(t -> !t.normalized()).toList());
        normalizedSplitter = new AddedTokenSplitter(added.stream().filter(AddedToken::normalized).toList());

        Path configSource = source.resolveSibling(TOKENIZER_CONFIG);
        Path mapSource = source.resolveSibling(SPECIAL_TOKENS_MAP);
        OptionalInt configuredBos = specialTokenId(source, "bos_token", tokenizerConfig, configSource, specialTokensMap, mapSource);
        bosId = configuredBos.isPresent() ? configuredBos : templateBos(json);
        eosId = specialTokenId(source, "eos_token", tokenizerConfig, configSource, specialTokensMap, mapSource);
        addBosByDefault = bosId.isPresent() && (tokenizerConfig != null && tokenizerConfig.has("add_bos_token")
                ? JsonFields.optionalBoolean(tokenizerConfig, "add_bos_token", false)
                : templateBos(json).isPresent());
    }

    /**
     * Reads {@code tokenizer.json} and, when present, {@code tokenizer_config.json} and
     * {@code special_tokens_map.json} from a Hugging Face model folder.
     *
     * @throws ModelFormatException when tokenizer.json is missing or malformed or uses a component
     *     this class does not support
     */
    public static BpeTokenizer fromHuggingFaceFolder(Path folder) {
        Path dir = folder.toAbsolutePath().normalize();
        Path file = dir.resolve(TOKENIZER_JSON);
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(dir, "no " + TOKENIZER_JSON + " in this folder; QSpec reads the Hugging Face"
                    + " fast-tokenizer file (SentencePiece tokenizer.model files are not supported)");
        }
        JsonObject json = JsonValues.readObject(file);
        Path config = dir.resolve(TOKENIZER_CONFIG);
        Path map = dir.resolve(SPECIAL_TOKENS_MAP);
        return build(file, json,
                Files.isRegularFile(config) ? JsonValues.readObject(config) : null,
                Files.isRegularFile(map) ? JsonValues.readObject(map) : null);
    }

    /** A tokenizer from the text of a tokenizer.json alone (BOS from its post-processor template, no EOS). */
    public static BpeTokenizer fromTokenizerJson(String tokenizerJson) {
        return fromTokenizerJson(tokenizerJson, null);
    }

    /**
     * A tokenizer from the text of a tokenizer.json and, if not null, of a tokenizer_config.json
     * (for {@code bos_token}, {@code eos_token}, {@code add_bos_token}).
     */
    public static BpeTokenizer fromTokenizerJson(String tokenizerJson, String tokenizerConfigJson) {
        Path source = Path.of(TOKENIZER_JSON);
        JsonObject config = tokenizerConfigJson == null ? null : JsonValues.parseObject(Path.of(TOKENIZER_CONFIG), tokenizerConfigJson);
        return build(source, JsonValues.parseObject(source, tokenizerJson), config, null);
    }

    /**
     * The byte-level BPE vocabulary of a GGUF file ({@code tokenizer.ggml.model = "gpt2"}): tokens,
     * merges, token types (control and user-defined tokens are matched whole), the split regexes
     * named by {@code tokenizer.ggml.pre} (llama.cpp's names for the Llama 3, Qwen2, GPT-2 and
     * "default" pre-tokenizers, e.g. "llama-bpe", "qwen2", "gpt-2"), BOS/EOS ids and
     * {@code add_bos_token}. Encodes like the model's tokenizer.json.
     *
     * @param forMessages the model file, named in error messages
     * @throws ModelFormatException when the metadata is missing, of the wrong kind, inconsistent or
     *     names an unknown pre-tokenizer
     */
    public static BpeTokenizer fromGguf(ModelMetadata metadata, Path forMessages) {
        GgufByteLevelVocabulary.Translation t = GgufByteLevelVocabulary.translate(metadata, forMessages);
        BpeTokenizer tokenizer = build(forMessages, t.tokenizerJson(), t.tokenizerConfig(), null);
        // BOS/EOS were handed over by content; a clash of contents must not silently pick another id.
        if (tokenizer.bosId.orElse(-1) != t.bosId() || tokenizer.eosId.orElse(-1) != t.eosId()) {
            throw new ModelFormatException(forMessages, "the BOS/EOS token ids " + t.bosId() + "/" + t.eosId()
                    + " share their text with other tokens; cannot tell them apart");
        }
        return tokenizer;
    }

    /** Turns Gson's complaints about members of the wrong JSON kind into a message naming the file. */
    private static BpeTokenizer build(Path source, JsonObject json, JsonObject tokenizerConfig, JsonObject specialTokensMap) {
        try {
            return new BpeTokenizer(source, json, tokenizerConfig, specialTokensMap);
        } catch (IllegalStateException | UnsupportedOperationException | NumberFormatException | ClassCastException e) {
            throw new ModelFormatException(source, "is malformed: a member has the wrong JSON type (" + e.getMessage() + ")", e);
        }
    }

    private static List<AddedToken> readAddedTokens(Path source, JsonObject json) {
        JsonElement list = json.get("added_tokens");
        if (list == null || list.isJsonNull()) {
            return List.of();
        }
        if (!list.isJsonArray()) {
            throw new ModelFormatException(source, "'added_tokens' must be an array but is " + JsonValues.describe(list));
        }
        List<AddedToken> tokens = new ArrayList<>();
        JsonArray array = list.getAsJsonArray();
        for (int i = 0; i < array.size(); i++) {
            JsonElement e = array.get(i);
            if (!e.isJsonObject()) {
                throw new ModelFormatException(source, "added_tokens[" + i + "] must be an object but is " + JsonValues.describe(e));
            }
            JsonObject o = e.getAsJsonObject();
            Object id = JsonValues.toJava(o.get("id"));
            if (!(id instanceof Long l) || l < 0 || l > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(source, "added_tokens[" + i + "] has no valid 'id'");
            }
            tokens.add(new AddedToken((int) (long) l, JsonFields.string(source, o, "content", "added_tokens[" + i + "]"),
                    JsonFields.optionalBoolean(o, "special", false), JsonFields.optionalBoolean(o, "normalized", false),
                    JsonFields.optionalBoolean(o, "lstrip", false), JsonFields.optionalBoolean(o, "rstrip", false),
                    JsonFields.optionalBoolean(o, "single_word", false)));
        }
        return tokens;
    }

    /**
     * The id of {@code key} (bos_token/eos_token) as named by tokenizer_config.json, else by
     * special_tokens_map.json; the value may be a string or an object with {@code content}.
     * Empty when neither names it.
     */
    private OptionalInt specialTokenId(Path source, String key, JsonObject config, Path configSource,
            JsonObject map, Path mapSource) {
        OptionalInt fromConfig = namedToken(source, key, config, configSource);
        return fromConfig.isPresent() ? fromConfig : namedToken(source, key, map, mapSource);
    }

    /** The id of the token that member {@code key} of {@code file} (read from {@code fileName}) names. */
    private OptionalInt namedToken(Path source, String key, JsonObject file, Path fileName) {
        JsonElement value = file == null ? null : file.get(key);
        if (value == null || value.isJsonNull()) {
            return OptionalInt.empty();
        }
        String content = value.isJsonObject()
                ? JsonFields.string(fileName, value.getAsJsonObject(), "content", key)
                : value.isJsonPrimitive() ? value.getAsString() : null;
        if (content == null) {
            throw new ModelFormatException(fileName, key + " must be a string or {\"content\": ...} but is "
                    + JsonValues.describe(value));
        }
        int id = idOf(content);
        if (id < 0) {
            throw new ModelFormatException(fileName, key + " '" + content + "' is not a token of " + source);
        }
        return OptionalInt.of(id);
    }

    /**
     * BOS as the special token a TemplateProcessing post-processor puts first (Llama-2 style files),
     * also when it is a step of a Sequence post-processor (Llama 3 files).
     */
    private OptionalInt templateBos(JsonObject json) {
        return templateBos(json.get("post_processor"));
    }

    private OptionalInt templateBos(JsonElement post) {
        if (post == null || !post.isJsonObject()) {
            return OptionalInt.empty();
        }
        JsonElement steps = post.getAsJsonObject().get("processors");
        if (steps != null && steps.isJsonArray()) {
            for (JsonElement step : steps.getAsJsonArray()) {
                OptionalInt bos = templateBos(step);
                if (bos.isPresent()) {
                    return bos;
                }
            }
            return OptionalInt.empty();
        }
        JsonElement single = post.getAsJsonObject().get("single");
        if (single == null || !single.isJsonArray() || single.getAsJsonArray().isEmpty()) {
            return OptionalInt.empty();
        }
        JsonElement first = single.getAsJsonArray().get(0);
        if (!first.isJsonObject() || !first.getAsJsonObject().has("SpecialToken")) {
            return OptionalInt.empty();
        }
        JsonElement tokenSpec = first.getAsJsonObject().get("SpecialToken");
        String content = tokenSpec.isJsonObject() ? JsonFields.optionalString(tokenSpec.getAsJsonObject(), "id", null) : null;
        int id = content == null ? -1 : idOf(content);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    private int idOf(String piece) {
        return idsByPiece.getOrDefault(piece, -1);
    }

    private byte[] bytesOf(int id) {
        if (special[id]) {
            return new byte[0];
        }
        if (byteLevel) {
            return ByteLevelAlphabet.decode(pieces[id]);
        }
        int b = BpeModel.byteOfPiece(pieces[id]);
        if (b >= 0) {
            return new byte[] {(byte) b};
        }
        return pieces[id].replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        IntList ids = new IntList(text.length() / 3 + 2);
        if (addBos && bosId.isPresent()) {
            ids.add(bosId.getAsInt());
        }
        for (AddedTokenSplitter.Piece raw : rawSplitter.split(text)) {
            if (raw.isToken()) {
                ids.add(raw.tokenId());
                continue;
            }
            String normalized = normalizer.normalize(raw.text());
            for (AddedTokenSplitter.Piece piece : normalizedSplitter.split(normalized)) {
                if (piece.isToken()) {
                    ids.add(piece.tokenId());
                    continue;
                }
                boolean startOfInput = raw.start() == 0 && piece.start() == 0;
                for (String word : preTokenizer.split(piece.text(), startOfInput)) {
                    model.encodeWord(word, ids);
                }
            }
        }
        return ids.toArray();
    }

    @Override
    public String decode(int[] ids) {
        List<String> kept = new ArrayList<>(ids.length);
        for (int id : ids) {
            checkId(id);
            if (!special[id]) {
                kept.add(pieces[id]);
            }
        }
        return String.join("", decoder.decode(kept));
    }

    @Override
    public byte[] tokenBytes(int id) {
        checkId(id);
        return bytes[id].clone();
    }

    @Override
    public String tokenText(int id) {
        checkId(id);
        return pieces[id];
    }

    /** Whether {@code id} is a special added token (BOS, EOS, unk, ...), which decoding leaves out. */
    public boolean isSpecial(int id) {
        checkId(id);
        return special[id];
    }

    /** The id of a vocabulary piece or added token as written in the file, if there is one. */
    public OptionalInt pieceId(String piece) {
        int id = idOf(piece);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * Whether the model expects BOS in front of every prompt: tokenizer_config.json's
     * {@code add_bos_token}, else whether the post-processor template starts with BOS.
     */
    public boolean addBosByDefault() {
        return addBosByDefault;
    }

    @Override
    public OptionalInt bosId() {
        return bosId;
    }

    @Override
    public OptionalInt eosId() {
        return eosId;
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0," + pieces.length + ")");
        }
    }

    @Override
    public String toString() {
        return "BpeTokenizer[" + model + ", bos=" + bosId + ", eos=" + eosId + "]";
    }
}
