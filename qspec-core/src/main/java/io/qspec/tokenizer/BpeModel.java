package io.qspec.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.qspec.format.ModelFormatException;
import io.qspec.format.safetensors.JsonValues;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code model} section of a BPE tokenizer.json: vocabulary, ranked merges, byte fallback and
 * the unknown token. Turns one pre-tokenized word into ids by starting from single characters and
 * repeatedly applying the lowest-ranked merge available (leftmost among equal ranks), using a
 * priority queue so long words cost O(n log n).
 */
final class BpeModel {
    /** Words up to this length are cached; longer ones (whole paragraphs, when there is no pre-tokenizer) are not. */
    private static final int MAX_CACHED_WORD = 64;
    private static final int MAX_CACHE_ENTRIES = 100_000;

    private final Map<String, Integer> vocab;
    /** (left id, right id) packed into a long → (rank, merged id) packed into a long. */
    private final Map<Long, Long> merges;
    /** Id of byte piece {@code <0xXX>} for each byte value, or -1. */
    private final int[] byteIds = new int[256];
    private final boolean byteFallback;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeModel(Map<String, Integer> vocab, Map<Long, Long> merges, boolean byteFallback, int unkId,
            boolean fuseUnk, boolean ignoreMerges) {
        this.vocab = vocab;
        this.merges = merges;
        this.byteFallback = byteFallback;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) {
            byteIds[b] = vocab.getOrDefault(bytePiece(b), -1);
        }
    }

    /** The piece that stands for byte {@code b} under byte fallback: {@code <0x0A>}. */
    static String bytePiece(int b) {
        return String.format("<0x%02X>", b);
    }

    /** The byte a piece of the form {@code <0xXX>} stands for, or -1 for any other piece. */
    static int byteOfPiece(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(piece.charAt(3), 16);
        int lo = Character.digit(piece.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    static BpeModel fromJson(Path source, JsonObject model) {
        String type = JsonFields.optionalString(model, "type", "BPE");
        if (!type.equals("BPE")) {
            throw JsonFields.unsupported(source, "model", type);
        }
        JsonElement dropout = model.get("dropout");
        if (dropout != null && !dropout.isJsonNull() && dropout.getAsDouble() > 0) {
            throw new ModelFormatException(source, "model BPE has dropout " + dropout
                    + "; BPE dropout is a training-time option and is not supported");
        }
        for (String key : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            String value = JsonFields.optionalString(model, key, "");
            if (!value.isEmpty()) {
                throw new ModelFormatException(source, "model BPE has " + key + " \"" + value + "\", which is not supported");
            }
        }
        JsonObject vocabJson = JsonFields.optionalObject(source, model, "vocab", "model");
        if (vocabJson == null) {
            throw new ModelFormatException(source, "model BPE has no 'vocab' object (token → id)");
        }
        Map<String, Integer> vocab = new HashMap<>();
        for (Map.Entry<String, JsonElement> e : vocabJson.entrySet()) {
            Object id = JsonValues.toJava(e.getValue());
            if (!(id instanceof Long l) || l < 0 || l > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(source, "model vocab entry '" + e.getKey() + "' must map to a non-negative id but maps to "
                        + JsonValues.describe(e.getValue()));
            }
            vocab.put(e.getKey(), (int) (long) l);
        }
        Map<Long, Long> merges = readMerges(source, model, vocab);
        String unk = JsonFields.optionalString(model, "unk_token", null);
        int unkId = -1;
        if (unk != null) {
            Integer id = vocab.get(unk);
            if (id == null) {
                throw new ModelFormatException(source, "model unk_token '" + unk + "' is not in the vocabulary");
            }
            unkId = id;
        }
        return new BpeModel(vocab, merges, JsonFields.optionalBoolean(model, "byte_fallback", false), unkId,
                JsonFields.optionalBoolean(model, "fuse_unk", false), JsonFields.optionalBoolean(model, "ignore_merges", false));
    }

    private static Map<Long, Long> readMerges(Path source, JsonObject model, Map<String, Integer> vocab) {
        JsonElement list = model.get("merges");
        if (list == null || list.isJsonNull()) {
            return Map.of();
        }
        if (!list.isJsonArray()) {
            throw new ModelFormatException(source, "model 'merges' must be an array but is " + JsonValues.describe(list));
        }
        JsonArray array = list.getAsJsonArray();
        Map<Long, Long> merges = new HashMap<>(array.size() * 2);
        for (int rank = 0; rank < array.size(); rank++) {
            JsonElement e = array.get(rank);
            String left;
            String right;
            if (e.isJsonArray() && e.getAsJsonArray().size() == 2) {
                // Newer files: ["a", "b"], which allows pieces that contain spaces.
                left = e.getAsJsonArray().get(0).getAsString();
                right = e.getAsJsonArray().get(1).getAsString();
            } else if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
                String s = e.getAsString();
                int space = s.indexOf(' ');
                if (space < 0 || s.indexOf(' ', space + 1) >= 0) {
                    throw new ModelFormatException(source, "merge " + rank + " \"" + s + "\" is not two pieces separated by one space");
                }
                left = s.substring(0, space);
                right = s.substring(space + 1);
            } else {
                throw new ModelFormatException(source, "merge " + rank + " must be \"a b\" or [\"a\", \"b\"] but is " + e);
            }
            Integer l = vocab.get(left);
            Integer r = vocab.get(right);
            Integer merged = vocab.get(left + right);
            if (l == null || r == null || merged == null) {
                String missing = l == null ? left : r == null ? right : left + right;
                throw new ModelFormatException(source, "merge " + rank + " (" + left + " + " + right + ") uses '" + missing
                        + "', which is not in the vocabulary");
            }
            // A pair listed twice keeps its first (best) rank, as in Hugging Face.
            merges.putIfAbsent(pair(l, r), ((long) rank << 32) | merged);
        }
        return merges;
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** Largest id in the vocabulary, or -1 when empty. */
    int maxId() {
        return vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
    }

    Map<String, Integer> vocab() {
        return vocab;
    }

    /** Ids of one word, appended to {@code out}. */
    void encodeWord(String word, IntList out) {
        if (word.length() <= MAX_CACHED_WORD) {
            int[] ids = cache.get(word);
            if (ids == null) {
                ids = merge(word);
                if (cache.size() >= MAX_CACHE_ENTRIES) {
                    cache.clear();
                }
                cache.put(word, ids);
            }
            out.addAll(ids);
        } else {
            out.addAll(merge(word));
        }
    }

    private int[] merge(String word) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                return new int[] {whole};
            }
        }
        // Initial symbols: one per character, or its UTF-8 byte pieces, or unk.
        IntList symbols = new IntList(word.length());
        boolean lastWasUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            String ch = word.substring(i, i + Character.charCount(cp));
            i += ch.length();
            Integer id = vocab.get(ch);
            if (id != null) {
                symbols.add(id);
                lastWasUnk = false;
                continue;
            }
            if (byteFallback && appendBytes(ch, symbols)) {
                lastWasUnk = false;
                continue;
            }
            if (unkId < 0) {
                throw new IllegalArgumentException(String.format(
                        "character U+%04X is not in the vocabulary and the tokenizer has neither byte pieces nor an unknown token", cp));
            }
            if (!(fuseUnk && lastWasUnk)) {
                symbols.add(unkId);
            }
            lastWasUnk = true;
        }
        return applyMerges(symbols.toArray());
    }

    private boolean appendBytes(String ch, IntList symbols) {
        byte[] bytes = ch.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            if (byteIds[b & 0xFF] < 0) {
                return false;
            }
        }
        for (byte b : bytes) {
            symbols.add(byteIds[b & 0xFF]);
        }
        return true;
    }

    private int[] applyMerges(int[] ids) {
        int n = ids.length;
        if (n < 2 || merges.isEmpty()) {
            return ids;
        }
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        boolean[] dead = new boolean[n];
        // Entries are (rank << 32 | left position): lowest rank first, then leftmost.
        PriorityQueue<Long> queue = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) {
            offer(queue, ids, i, i + 1);
        }
        while (!queue.isEmpty()) {
            long entry = queue.poll();
            int rank = (int) (entry >>> 32);
            int left = (int) entry;
            int right = next[left];
            if (dead[left] || right < 0) {
                continue;
            }
            Long merge = merges.get(pair(ids[left], ids[right]));
            // Stale entry: the pair at this position changed since it was queued.
            if (merge == null || (int) (merge >>> 32) != rank) {
                continue;
            }
            ids[left] = (int) (long) merge;
            dead[right] = true;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(queue, ids, prev[left], left);
            }
            if (next[left] >= 0) {
                offer(queue, ids, left, next[left]);
            }
        }
        IntList out = new IntList(n);
        for (int i = 0; i >= 0; i = next[i]) {
            out.add(ids[i]);
        }
        return out.toArray();
    }

    private void offer(PriorityQueue<Long> queue, int[] ids, int left, int right) {
        Long merge = merges.get(pair(ids[left], ids[right]));
        if (merge != null) {
            queue.add((merge >>> 32) << 32 | left);
        }
    }

    @Override
    public String toString() {
        return "BpeModel[" + vocab.size() + " pieces, " + merges.size() + " merges, byteFallback=" + byteFallback
                + ", unk=" + unkId + ", bytePieces=" + Arrays.stream(byteIds).filter(id -> id >= 0).count() + "]";
    }
}
