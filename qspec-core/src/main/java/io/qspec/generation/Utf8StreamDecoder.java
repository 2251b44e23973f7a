package io.qspec.generation;

/**
 * Turns a stream of token bytes ({@link io.qspec.tokenizer.Tokenizer#tokenBytes}) into text as it
 * arrives: each {@link #feed} returns only complete characters and holds back an incomplete trailing
 * sequence (a byte-fallback token may carry a third of an emoji) until the rest arrives.
 *
 * <p>Malformed input becomes U+FFFD, one per maximal ill-formed subpart — the Unicode
 * "substitution of maximal subparts" practice that the JDK, ICU and WHATWG decoders follow — so the
 * result is deterministic and does not depend on how the bytes are split into feeds:
 * {@code feed(a) + feed(b) + flush()} equals {@code new String(a ++ b, UTF_8)}. Not thread-safe; one
 * per generated sequence.
 */
public final class Utf8StreamDecoder {
    private static final char REPLACEMENT = '\uFFFD';

    /** The code point collected so far from the pending lead and continuation bytes. */
    private int codePoint;
    /** Continuation bytes still needed; 0 when no sequence is pending. */
    private int needed;
    /** Continuation bytes seen of the pending sequence. */
    private int seen;
    /** Allowed range of the next continuation byte (narrower than 80..BF right after some leads). */
    private int lowerBound = 0x80;
    private int upperBound = 0xBF;

    /** Decodes {@code bytes} after whatever is pending; returns the characters completed (maybe ""). */
    public String feed(byte[] bytes) {
        return feed(bytes, 0, bytes.length);
    }

    /** Decodes {@code bytes[offset .. offset+length)} after whatever is pending. */
    public String feed(byte[] bytes, int offset, int length) {
        StringBuilder out = new StringBuilder(length);
        for (int i = offset; i < offset + length; i++) {
            accept(bytes[i] & 0xFF, out);
        }
        return out.toString();
    }

    /** Ends the stream: a pending incomplete sequence becomes one U+FFFD. The decoder is then reset. */
    public String flush() {
        if (needed == 0) {
            return "";
        }
        reset();
        return String.valueOf(REPLACEMENT);
    }

    /** Whether bytes of an incomplete character are held back. */
    public boolean hasPending() {
        return needed != 0;
    }

    private void accept(int b, StringBuilder out) {
        if (needed > 0) {
            if (b >= lowerBound && b <= upperBound) {
                codePoint = (codePoint << 6) | (b & 0x3F);
                seen++;
                lowerBound = 0x80;
                upperBound = 0xBF;
                if (seen == needed) {
                    out.appendCodePoint(codePoint);
                    reset();
                }
                return;
            }
            // the pending bytes are a maximal ill-formed subpart; b starts afresh
            out.append(REPLACEMENT);
            reset();
        }
        if (b < 0x80) {
            out.append((char) b);
        } else if (b >= 0xC2 && b <= 0xDF) {
            start(b & 0x1F, 1, 0x80, 0xBF);
        } else if (b >= 0xE0 && b <= 0xEF) {
            // E0 needs A0.. (no overlongs), ED needs ..9F (no surrogates)
            start(b & 0x0F, 2, b == 0xE0 ? 0xA0 : 0x80, b == 0xED ? 0x9F : 0xBF);
        } else if (b >= 0xF0 && b <= 0xF4) {
            // F0 needs 90.. (no overlongs), F4 needs ..8F (nothing above U+10FFFF)
            start(b & 0x07, 3, b == 0xF0 ? 0x90 : 0x80, b == 0xF4 ? 0x8F : 0xBF);
        } else {
            // stray continuation byte, or a lead that can never start a valid sequence (C0, C1, F5..FF)
            out.append(REPLACEMENT);
        }
    }

    private void start(int bits, int continuationBytes, int lower, int upper) {
        codePoint = bits;
        needed = continuationBytes;
        seen = 0;
        lowerBound = lower;
        upperBound = upper;
    }

    private void reset() {
        codePoint = 0;
        needed = 0;
        seen = 0;
        lowerBound = 0x80;
        upperBound = 0xBF;
    }
}
