package io.qspec.generation;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class Utf8StreamDecoderTest {
    private static final String EMOJI = "\uD83D\uDE00"; // 😀 U+1F600, F0 9F 98 80

    @Test
    void asciiPassesThroughAtOnce() {
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();

        assertThat(decoder.feed(bytes("Hello"))).isEqualTo("Hello");
        assertThat(decoder.feed(bytes(", world"))).isEqualTo(", world");
        assertThat(decoder.hasPending()).isFalse();
        assertThat(decoder.flush()).isEmpty();
    }

    @Test
    void emojiSplitIntoTwoFeeds() {
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();

        assertThat(decoder.feed(new byte[] {(byte) 0xF0, (byte) 0x9F})).isEmpty();
        assertThat(decoder.hasPending()).isTrue();
        assertThat(decoder.feed(new byte[] {(byte) 0x98, (byte) 0x80})).isEqualTo(EMOJI);
        assertThat(decoder.hasPending()).isFalse();
    }

    @Test
    void emojiSplitIntoThreeFeeds() {
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();

        assertThat(decoder.feed(new byte[] {'a', (byte) 0xF0})).isEqualTo("a");
        assertThat(decoder.feed(new byte[] {(byte) 0x9F, (byte) 0x98})).isEmpty();
        assertThat(decoder.feed(new byte[] {(byte) 0x80, 'b'})).isEqualTo(EMOJI + "b");
    }

    @Test
    void emojiOneByteAtATime() {
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();
        byte[] bytes = bytes(EMOJI);
        assertThat(bytes).hasSize(4);

        assertThat(decoder.feed(new byte[] {bytes[0]})).isEmpty();
        assertThat(decoder.feed(new byte[] {bytes[1]})).isEmpty();
        assertThat(decoder.feed(new byte[] {bytes[2]})).isEmpty();
        assertThat(decoder.feed(new byte[] {bytes[3]})).isEqualTo(EMOJI);
    }

    @Test
    void cjkThreeByteCharactersSplitAnywhere() {
        String text = "日本語のテキスト";
        byte[] bytes = bytes(text);
        for (int cut = 0; cut <= bytes.length; cut++) {
            Utf8StreamDecoder decoder = new Utf8StreamDecoder();
            String first = decoder.feed(Arrays.copyOfRange(bytes, 0, cut));
            String second = decoder.feed(Arrays.copyOfRange(bytes, cut, bytes.length));

            assertThat(first).isEqualTo(text.substring(0, cut / 3));
            assertThat(first + second + decoder.flush()).isEqualTo(text);
        }
    }

    @Test
    void mixedTextInTokenSizedPieces() {
        String text = "Tokyo 東京 is 🗼 and café ✓ 🇯🇵!";
        byte[] bytes = bytes(text);
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < bytes.length; i += 2) {
            String chunk = decoder.feed(bytes, i, Math.min(2, bytes.length - i));
            // never emits half a surrogate pair
            assertThat(chunk.isEmpty() || !Character.isHighSurrogate(chunk.charAt(chunk.length() - 1))).isTrue();
            out.append(chunk);
        }
        out.append(decoder.flush());

        assertThat(out.toString()).isEqualTo(text);
    }

    @Test
    void invalidBytesBecomeReplacementCharacters() {
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();

        // a stray continuation byte, a never-valid byte, then valid text
        assertThat(decoder.feed(new byte[] {'a', (byte) 0x80, (byte) 0xFF, 'b'})).isEqualTo("a\uFFFD\uFFFDb");
        // a truncated 3-byte sequence interrupted by ASCII: one U+FFFD for the lead and its continuation
        assertThat(decoder.feed(new byte[] {(byte) 0xE6, (byte) 0x97, 'c'})).isEqualTo("\uFFFDc");
        // an overlong encoding of '/' (C0 AF): both bytes are invalid
        assertThat(decoder.feed(new byte[] {(byte) 0xC0, (byte) 0xAF})).isEqualTo("\uFFFD\uFFFD");
        // a surrogate encoded as UTF-8 (ED A0 80) is ill-formed
        assertThat(decoder.feed(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})).isEqualTo("\uFFFD\uFFFD\uFFFD");
    }

    @Test
    void flushReplacesAnIncompleteTail() {
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();

        assertThat(decoder.feed(new byte[] {'x', (byte) 0xF0, (byte) 0x9F})).isEqualTo("x");
        assertThat(decoder.flush()).isEqualTo("\uFFFD");
        assertThat(decoder.hasPending()).isFalse();
        assertThat(decoder.feed(bytes("ok"))).isEqualTo("ok");
    }

    /**
     * Any bytes, any split: the same text as the JDK's decoder, which also replaces maximal subparts,
     * except for encoded surrogates (ED A0..BF), where the JDK folds up to three bytes into one
     * U+FFFD while Unicode, WHATWG, ICU and Python replace each byte; those are left out here and
     * pinned in {@link #encodedSurrogatesFollowTheUnicodePractice()}.
     */
    @Test
    void matchesTheJdkDecoderOnRandomBytesAndSplits() {
        SplittableRandom random = new SplittableRandom(21);
        for (int round = 0; round < 2_000; round++) {
            byte[] bytes = new byte[random.nextInt(40)];
            for (int i = 0; i < bytes.length; i++) {
                // biased toward bytes that form or almost form multi-byte sequences
                do {
                    bytes[i] = (byte) (random.nextInt(3) == 0 ? random.nextInt(128) : 0x80 + random.nextInt(128));
                } while (bytes[i] == (byte) 0xED);
            }
            Utf8StreamDecoder decoder = new Utf8StreamDecoder();
            StringBuilder out = new StringBuilder();
            int at = 0;
            while (at < bytes.length) {
                int length = Math.min(bytes.length - at, 1 + random.nextInt(4));
                out.append(decoder.feed(bytes, at, length));
                at += length;
            }
            out.append(decoder.flush());

            assertThat(out.toString()).as("bytes %s", Arrays.toString(bytes))
                    .isEqualTo(new String(bytes, StandardCharsets.UTF_8));
        }
    }

    /** Expected values are Python's {@code bytes.decode("utf-8", "replace")}. */
    @Test
    void encodedSurrogatesFollowTheUnicodePractice() {
        assertThat(new Utf8StreamDecoder().feed(new byte[] {(byte) 0xED, (byte) 0xBE, '.'})).isEqualTo("\uFFFD\uFFFD.");
        assertThat(new Utf8StreamDecoder().feed(new byte[] {(byte) 0xED, (byte) 0x9F, (byte) 0xBF})).isEqualTo("\uD7FF");
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
