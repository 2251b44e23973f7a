package io.qspec.format;

/**
 * Decoders of GGML's 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0), following the layouts and the
 * arithmetic of ggml's {@code dequantize_row_*}: in each block, element {@code j < 16} comes from the low nibble of
 * byte {@code j} and element {@code j + 16} from its high nibble; a fifth bit, where there is one, comes from the
 * block's 32-bit {@code qh}. Types with a minimum decode {@code q * d + m}, the others {@code (q - offset) * d}.
 */
final class LegacyQuantBlocks {
    static final int BLOCK = 32;

    private LegacyQuantBlocks() {
    }

    /** Decodes the block of {@code type} starting at {@code src[at]} into {@code dst[to .. to + 32)}. */
    static void decode(TensorType type, byte[] src, int at, float[] dst, int to) {
        switch (type) {
            case Q4_0 -> q4(src, at, dst, to, false);
            case Q4_1 -> q4(src, at, dst, to, true);
            case Q5_0 -> q5(src, at, dst, to, false);
            case Q5_1 -> q5(src, at, dst, to, true);
            case Q8_0 -> q8(src, at, dst, to);
            default -> throw new IllegalArgumentException(type + " is not a 32-element GGML block type");
        }
    }

    /** Q4_0 {@code {fp16 d; u8 qs[16]}}: {@code (q - 8) * d}; Q4_1 {@code {fp16 d, m; u8 qs[16]}}: {@code q * d + m}. */
    private static void q4(byte[] b, int at, float[] dst, int to, boolean withMin) {
        float d = Halves.at(b, at);
        float m = withMin ? Halves.at(b, at + 2) : 0f;
        int qs = at + (withMin ? 4 : 2);
        for (int j = 0; j < 16; j++) {
            int v = b[qs + j] & 0xFF;
            if (withMin) {
                dst[to + j] = (v & 0x0F) * d + m;
                dst[to + j + 16] = (v >>> 4) * d + m;
            } else {
                dst[to + j] = ((v & 0x0F) - 8) * d;
                dst[to + j + 16] = ((v >>> 4) - 8) * d;
            }
        }
    }

    /**
     * Q5_0 {@code {fp16 d; u8 qh[4]; u8 qs[16]}}: {@code (q - 16) * d}; Q5_1 {@code {fp16 d, m; u8 qh[4]; u8 qs[16]}}:
     * {@code q * d + m}. Bit {@code j} of {@code qh} is the fifth bit of element {@code j}.
     */
    private static void q5(byte[] b, int at, float[] dst, int to, boolean withMin) {
        float d = Halves.at(b, at);
        float m = withMin ? Halves.at(b, at + 2) : 0f;
        int qhAt = at + (withMin ? 4 : 2);
        int qh = (b[qhAt] & 0xFF) | (b[qhAt + 1] & 0xFF) << 8 | (b[qhAt + 2] & 0xFF) << 16 | (b[qhAt + 3] & 0xFF) << 24;
        int qs = qhAt + 4;
        for (int j = 0; j < 16; j++) {
            int v = b[qs + j] & 0xFF;
            int lo = (v & 0x0F) | ((qh >>> j) << 4) & 0x10;
            int hi = (v >>> 4) | (qh >>> (j + 12)) & 0x10;
            if (withMin) {
                dst[to + j] = lo * d + m;
                dst[to + j + 16] = hi * d + m;
            } else {
                dst[to + j] = (lo - 16) * d;
                dst[to + j + 16] = (hi - 16) * d;
            }
        }
    }

    /** Q8_0 {@code {fp16 d; i8 qs[32]}}: {@code q * d}. */
    private static void q8(byte[] b, int at, float[] dst, int to) {
        float d = Halves.at(b, at);
        for (int j = 0; j < BLOCK; j++) {
            dst[to + j] = b[at + 2 + j] * d;
        }
    }
}
