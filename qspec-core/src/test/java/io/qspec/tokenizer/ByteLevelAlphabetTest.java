package io.qspec.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** GPT-2's bytes_to_unicode table, checked against entries every GPT-2-family vocabulary relies on. */
class ByteLevelAlphabetTest {

    @Test
    void printableBytesStandForThemselvesAndTheRestAreShiftedPast255() {
        assertThat(ByteLevelAlphabet.charOf('a')).isEqualTo('a');
        assertThat(ByteLevelAlphabet.charOf('!')).isEqualTo('!');
        assertThat(ByteLevelAlphabet.charOf(0xE9)).isEqualTo('é');
        // The 68 non-printable bytes in increasing order become U+0100..U+0143:
        // 0x00..0x20 are the first 33 (so the space 0x20 is U+0120 "Ġ", the newline 0x0A is U+010A "Ċ"),
        // 0x7F..0xA0 the next 34 (U+0121..U+0142), and 0xAD (soft hyphen) the last, U+0143.
        assertThat(ByteLevelAlphabet.charOf(0x00)).isEqualTo('\u0100');
        assertThat(ByteLevelAlphabet.charOf(' ')).isEqualTo('Ġ');
        assertThat(ByteLevelAlphabet.charOf('\n')).isEqualTo('Ċ');
        assertThat(ByteLevelAlphabet.charOf('\t')).isEqualTo('ĉ');
        assertThat(ByteLevelAlphabet.charOf(0x7F)).isEqualTo('\u0121');
        assertThat(ByteLevelAlphabet.charOf(0xA0)).isEqualTo('\u0142');
        assertThat(ByteLevelAlphabet.charOf(0xAD)).isEqualTo('\u0143');
    }

    @Test
    void everyByteHasItsOwnCharacterAndDecodesBack() {
        Set<Character> seen = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            char c = ByteLevelAlphabet.charOf(b);
            assertThat(seen.add(c)).as("byte %d", b).isTrue();
            assertThat(Character.isWhitespace(c) || Character.isISOControl(c)).as("byte %d", b).isFalse();
            assertThat(ByteLevelAlphabet.decode(String.valueOf(c))).containsExactly((byte) b);
        }
    }

    @Test
    void textIsSpelledByItsUtf8BytesAndDecodesBack() {
        // "é" is C3 A9 → "Ã©"; " " → "Ġ"; "😀" is F0 9F 98 80 → "ðŁĺĢ" as in GPT-2 vocabularies.
        assertThat(ByteLevelAlphabet.encode("é ")).isEqualTo("Ã©Ġ");
        assertThat(ByteLevelAlphabet.encode("😀")).isEqualTo("ðŁĺĢ");
        String text = "Hello, 世界! 😀\r\n\tnaïve";
        assertThat(new String(ByteLevelAlphabet.decode(ByteLevelAlphabet.encode(text)), StandardCharsets.UTF_8)).isEqualTo(text);
        // A piece with characters outside the alphabet (a plain-text added token) keeps its own UTF-8,
        // all of it: "Ġ" is not read as a space there.
        assertThat(ByteLevelAlphabet.decode("Ġ 世")).isEqualTo("Ġ 世".getBytes(StandardCharsets.UTF_8));
    }
}
