package io.qspec.synthetic;

import io.qspec.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;

/**
 * A tokenizer with one token per byte (ids 0–255), BOS = 256, EOS = 257, and the rest of a larger
 * vocabulary unused. It gives random-weight models a working, lossless text interface.
 */
public final class ByteTokenizer implements Tokenizer {
    public static final int BOS = 256;
    public static final int EOS = 257;
    private final int vocabSize;

    public ByteTokenizer(int vocabSize) {
        if (vocabSize < 258) {
            throw new IllegalArgumentException("a byte tokenizer needs a vocabulary of at least 258, got " + vocabSize);
        }
        this.vocabSize = vocabSize;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int offset = addBos ? 1 : 0;
        int[] ids = new int[bytes.length + offset];
        if (addBos) {
            ids[0] = BOS;
        }
        for (int i = 0; i < bytes.length; i++) {
            ids[i + offset] = bytes[i] & 0xFF;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(tokenBytes(id));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return id < 256 ? new byte[] {(byte) id} : new byte[0];
    }

    @Override
    public String tokenText(int id) {
        return id < 256 ? String.format("<0x%02X>", id) : id == BOS ? "<s>" : id == EOS ? "</s>" : "<unused" + id + ">";
    }

    @Override
    public OptionalInt bosId() {
        return OptionalInt.of(BOS);
    }

    @Override
    public OptionalInt eosId() {
        return OptionalInt.of(EOS);
    }
}
