package io.qspec.format;

/**
 * Decoders of GGML's non-linear 4-bit types (IQ4_NL, IQ4_XS), following ggml's {@code dequantize_row_iq4_*}: each
 * 4-bit code indexes a fixed table of 16 signed levels, denser near zero, which is scaled by the block's (or
 * sub-block's) scale. Codes are laid out as in Q4_0: element {@code j < 16} of a 32-element (sub-)block in the low
 * nibble of byte {@code j}, element {@code j + 16} in its high nibble.
 */
final class NonLinearQuantBlocks {
    /** ggml's {@code kvalues_iq4nl}. */
    private static final int[] LEVELS = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private NonLinearQuantBlocks() {
    }

    /** Decodes the block of {@code type} starting at {@code src[at]} into {@code dst[to .. to + blockSize)}. */
    static void decode(TensorType type, byte[] src, int at, float[] dst, int to) {
        switch (type) {
            case IQ4_NL -> levels(src, at + 2, Halves.at(src, at), dst, to);
            case IQ4_XS -> iq4xs(src, at, dst, to);
            default -> throw new IllegalArgumentException(type + " is not a GGML non-linear type");
        }
    }

    /**
     * IQ4_XS {@code {fp16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}}: 8 sub-blocks of 32; sub-block {@code i}'s
     * 6-bit scale (offset by 32) has its low 4 bits in nibble {@code i % 2} of {@code scales_l[i / 2]} and its high
     * 2 bits at bit {@code 2i} of {@code scales_h}.
     */
    private static void iq4xs(byte[] b, int at, float[] dst, int to) {
        float d = Halves.at(b, at);
        int scalesHigh = (b[at + 2] & 0xFF) | (b[at + 3] & 0xFF) << 8;
        for (int i = 0; i < 8; i++) {
            int low = ((b[at + 4 + i / 2] & 0xFF) >>> (4 * (i % 2))) & 0x0F;
            int high = (scalesHigh >>> (2 * i)) & 3;
            float dl = d * ((low | high << 4) - 32);
            levels(b, at + 8 + 16 * i, dl, dst, to + 32 * i);
        }
    }

    /** 32 elements from 16 bytes of codes, each {@code scale * LEVELS[code]}. */
    private static void levels(byte[] b, int qs, float scale, float[] dst, int to) {
        for (int j = 0; j < 16; j++) {
            int v = b[qs + j] & 0xFF;
            dst[to + j] = scale * LEVELS[v & 0x0F];
            dst[to + j + 16] = scale * LEVELS[v >>> 4];
        }
    }
}
