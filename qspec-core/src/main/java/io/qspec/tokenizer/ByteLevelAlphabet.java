package io.qspec.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * GPT-2's reversible map between bytes and printable characters ({@code bytes_to_unicode}), which
 * byte-level BPE vocabularies are written in. Printable Latin-1 bytes ({@code !..~}, {@code ¡..¬},
 * {@code ®..ÿ}) stand for themselves; the other 68 bytes, in increasing order, become U+0100,
 * U+0101, ... so that e.g. the space 0x20 is {@code Ġ} (U+0120) and the newline 0x0A is {@code Ċ}
 * (U+010A). Every string of bytes thus has exactly one spelling, with no spaces or control
 * characters in it.
 */
final class ByteLevelAlphabet {
    private static final char[] CHAR_OF_BYTE = new char[256];
    /** Indexed by character; -1 for characters that stand for no byte. */
    private static final int[] BYTE_OF_CHAR = new int[256 + 68];

    static {
        Arrays.fill(BYTE_OF_CHAR, -1);
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            char c = isPrintable(b) ? (char) b : (char) (256 + shifted++);
            CHAR_OF_BYTE[b] = c;
            BYTE_OF_CHAR[c] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    private static boolean isPrintable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    /** The character that stands for byte {@code b} (0..255). */
    static char charOf(int b) {
        return CHAR_OF_BYTE[b & 0xFF];
    }

    /** The UTF-8 bytes of {@code text}, spelled in the alphabet: {@code "é "} → {@code "Ã©Ġ"}. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] chars = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            chars[i] = CHAR_OF_BYTE[utf8[i] & 0xFF];
        }
        return new String(chars);
    }

    /**
     * The bytes a byte-level piece stands for. A piece with any character outside the alphabet (an
     * added token written as plain text, e.g. one containing a space or CJK) stands for its own
     * UTF-8 bytes, as in Hugging Face's ByteLevel decoder.
     */
    static byte[] decode(String piece) {
        byte[] bytes = new byte[piece.length()];
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            if (c >= BYTE_OF_CHAR.length || BYTE_OF_CHAR[c] < 0) {
                return piece.getBytes(StandardCharsets.UTF_8);
            }
            bytes[i] = (byte) BYTE_OF_CHAR[c];
        }
        return bytes;
    }
}
