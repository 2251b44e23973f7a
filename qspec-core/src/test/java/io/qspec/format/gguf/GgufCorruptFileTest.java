package io.qspec.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.qspec.TestModels;
import io.qspec.format.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged copies of the real stories260K.gguf must fail with a {@link ModelFormatException} naming
 * the file and the problem — never with another exception, and never by crashing the JVM.
 * Byte positions come from the independent Python dump of the header (it ends at byte 14152; the
 * data section starts at 14176; the file has 1185376 bytes).
 */
class GgufCorruptFileTest {
    private static final int HEADER_END = 14152;
    private static final int DATA_START = 14176;
    /** Header position of the last tensor entry (blk.4.ffn_norm.weight, ne [64]): its type, then its offset. */
    private static final int LAST_TENSOR_TYPE_AT = 14140;
    private static final int LAST_TENSOR_OFFSET_AT = 14144;
    /** The uint64 element count of tokenizer.ggml.tokens, the first key/value. */
    private static final int TOKENS_COUNT_AT = 24 + 8 + "tokenizer.ggml.tokens".length() + 4 + 4;

    private static byte[] original;

    @TempDir
    Path dir;

    @BeforeAll
    static void readOriginal() throws IOException {
        original = Files.readAllBytes(TestModels.stories260K());
        assertThat(original).hasSize(1185376);
    }

    @Test
    void truncatedCopiesFailWithATruncationMessage() throws IOException {
        LongStream cuts = LongStream.concat(
                LongStream.iterate(0, c -> c < DATA_START + 64, c -> c + 7),
                LongStream.of(3, 4, 8, 16, 23, 24, HEADER_END - 1, HEADER_END, DATA_START - 1, DATA_START,
                        DATA_START + 1, 600_000, original.length - 4, original.length - 1));
        for (long cut : cuts.toArray()) {
            Path file = dir.resolve("cut-at-" + cut + ".gguf");
            Files.write(file, Arrays.copyOf(original, (int) cut));
            ModelFormatException e = openExpectingFailure(file);
            assertThat(e.getMessage()).as("cut at %d", cut).contains("cut-at-" + cut + ".gguf");
            if (cut >= 4) {
                assertThat(e.getMessage()).as("cut at %d", cut).contains("truncated");
            }
        }
    }

    @Test
    void truncatedDataNamesTheTensorAndTheMissingByteRange() throws IOException {
        Path file = dir.resolve("short.gguf");
        Files.write(file, Arrays.copyOf(original, original.length - 1));
        assertThat(openExpectingFailure(file)).hasMessage(file + ": file is truncated: tensor blk.4.ffn_norm.weight"
                + " needs bytes [1185120, 1185376) but the file has 1185375 bytes — re-download or re-convert the model");

        Path half = dir.resolve("half.gguf");
        Files.write(half, Arrays.copyOf(original, 600_000));
        // blk.1.ffn_up.weight (data offset 581632, 44032 bytes) is the first tensor in file order that does not fit
        assertThat(openExpectingFailure(half)).hasMessageContaining(
                "file is truncated: tensor blk.1.ffn_up.weight needs bytes [595808, 639840) but the file has 600000 bytes");
    }

    @Test
    void badMagic() throws IOException {
        byte[] bytes = original.clone();
        System.arraycopy("GGML".getBytes(StandardCharsets.US_ASCII), 0, bytes, 0, 4);
        assertThat(openExpectingFailure(write("magic.gguf", bytes))).hasMessageContaining("magic.gguf")
                .hasMessageContaining("at byte offset 0: not a GGUF file: expected the magic bytes 'GGUF' (47 47 55 46)"
                        + " but found 'GGML' (47 47 4d 4c)");
    }

    @Test
    void bogusVersion() throws IOException {
        byte[] bytes = patchU32(original, 4, 99);
        assertThat(openExpectingFailure(write("version.gguf", bytes))).hasMessageContaining("version.gguf")
                .hasMessageContaining("at byte offset 4: unsupported GGUF version 99; expected 2 or 3");
    }

    @Test
    void hugeStringLength() throws IOException {
        byte[] bytes = patchU64(original, 24, 1L << 40);   // length of the first key
        assertThat(openExpectingFailure(write("string.gguf", bytes))).hasMessageContaining("string.gguf")
                .hasMessageContaining("at byte offset 24: key of metadata entry #0 claims a length of 1099511627776"
                        + " bytes but only 1185344 bytes remain in the file");
    }

    @Test
    void hugeArrayCount() throws IOException {
        byte[] bytes = patchU64(original, TOKENS_COUNT_AT, 1L << 40);
        assertThat(openExpectingFailure(write("array.gguf", bytes))).hasMessageContaining("array.gguf")
                .hasMessageContaining("metadata array 'tokenizer.ggml.tokens' claims 1099511627776 string elements");
    }

    @Test
    void tensorOffsetBeyondEndOfFile() throws IOException {
        byte[] justPast = patchU64(original, LAST_TENSOR_OFFSET_AT, original.length);
        assertThat(openExpectingFailure(write("offset.gguf", justPast))).hasMessageContaining("offset.gguf")
                .hasMessageContaining("file is truncated: tensor blk.4.ffn_norm.weight needs bytes [1199552, 1199808)"
                        + " but the file has 1185376 bytes");
        byte[] farPast = patchU64(original, LAST_TENSOR_OFFSET_AT, 1L << 40);
        assertThat(openExpectingFailure(write("far.gguf", farPast)))
                .hasMessageContaining("tensor 'blk.4.ffn_norm.weight' has data offset 1099511627776")
                .hasMessageContaining("beyond the end of the file of 1185376 bytes");
        byte[] misaligned = patchU64(original, LAST_TENSOR_OFFSET_AT, 1170944 + 4);
        assertThat(openExpectingFailure(write("misaligned.gguf", misaligned)))
                .hasMessageContaining("tensor 'blk.4.ffn_norm.weight' has data offset 1170948, which is not a multiple"
                        + " of the alignment 32");
    }

    @Test
    void unsupportedTensorType() throws IOException {
        byte[] bytes = patchU32(original, LAST_TENSOR_TYPE_AT, 19);
        assertThat(openExpectingFailure(write("iq1s.gguf", bytes))).hasMessageContaining("iq1s.gguf")
                .hasMessageContaining("unsupported tensor type 19 (IQ1_S) for tensor blk.4.ffn_norm.weight; supported: "
                        + "F32 (0), F16 (1), Q4_0 (2), Q4_1 (3), Q5_0 (6), Q5_1 (7), Q8_0 (8), Q2_K (10), Q3_K (11), Q4_K (12), "
                        + "Q5_K (13), Q6_K (14), IQ4_NL (20), IQ4_XS (23), BF16 (30)")
                .hasMessageContaining("llama-quantize");
    }

    @Test
    void emptyFile() throws IOException {
        assertThat(openExpectingFailure(write("empty.gguf", new byte[0])))
                .hasMessageContaining("empty.gguf: not a GGUF file: it has only 0 bytes");
    }

    /** Random byte damage anywhere in the header: the file either still opens or fails cleanly. */
    @Test
    void randomHeaderDamageNeverEscapesAsAnotherException() throws IOException {
        Random random = new Random(20261123);
        Path file = dir.resolve("fuzz.gguf");
        int opened = 0;
        for (int round = 0; round < 400; round++) {
            byte[] bytes = original.clone();
            int flips = 1 + random.nextInt(4);
            for (int i = 0; i < flips; i++) {
                int at = random.nextInt(HEADER_END);
                bytes[at] = (byte) (random.nextBoolean() ? random.nextInt(256) : bytes[at] ^ (1 << random.nextInt(8)));
            }
            Files.write(file, bytes);
            try (GgufFile gguf = GgufFile.open(file)) {
                gguf.tensors().forEach(t -> assertThat(t.data().byteSize()).isNotNegative());
                opened++;
            } catch (ModelFormatException expected) {
                assertThat(expected.getMessage()).contains("fuzz.gguf");
            } catch (RuntimeException | Error other) {
                fail("round " + round + ": damaged header escaped as " + other, other);
            }
        }
        // most single-byte damage lands in token strings and scores, which stay valid
        assertThat(opened).isPositive();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static ModelFormatException openExpectingFailure(Path file) {
        try {
            GgufFile.open(file).close();
            return fail("expected " + file + " to be rejected");
        } catch (ModelFormatException e) {
            return e;
        }
    }

    private static byte[] patchU32(byte[] bytes, int at, int value) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(at, value);
        return copy;
    }

    private static byte[] patchU64(byte[] bytes, int at, long value) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(at, value);
        return copy;
    }
}
