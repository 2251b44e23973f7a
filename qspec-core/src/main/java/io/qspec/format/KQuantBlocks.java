package io.qspec.format;

/**
 * Decoders of GGML's "k-quant" super-blocks of 256 elements (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K), the types of
 * llama.cpp's {@code Q*_K_S/M/L} files. Layouts and arithmetic follow ggml's {@code dequantize_row_q*_K}: a
 * super-block holds an fp16 scale {@code d} (and, for the asymmetric types, an fp16 {@code dmin}), quantized
 * per-sub-block scales (and minimums), and the element codes, split into low bits and high bits. Each element
 * decodes as {@code (d * scale) * q - (dmin * min)}, or {@code (d * scale) * q} for the symmetric types, in float,
 * with ggml's order of operations.
 */
final class KQuantBlocks {
    static final int BLOCK = 256;

    private KQuantBlocks() {
    }

    /** Decodes the super-block of {@code type} starting at {@code src[at]} into {@code dst[to .. to + 256)}. */
    static void decode(TensorType type, byte[] src, int at, float[] dst, int to) {
        switch (type) {
            case Q2_K -> q2(src, at, dst, to);
            case Q3_K -> q3(src, at, dst, to);
            case Q4_K -> q4(src, at, dst, to);
            case Q5_K -> q5(src, at, dst, to);
            case Q6_K -> q6(src, at, dst, to);
            default -> throw new IllegalArgumentException(type + " is not a GGML k-quant type");
        }
    }

    /**
     * Q2_K {@code {u8 scales[16]; u8 qs[64]; fp16 d, dmin}}: 16 sub-blocks of 16; a scale byte holds the
     * sub-block's 4-bit scale (low) and 4-bit minimum (high); codes are 2 bits, four per byte.
     */
    private static void q2(byte[] b, int at, float[] dst, int to) {
        int scales = at;
        int qs = at + 16;
        float d = Halves.at(b, at + 80);
        float dmin = Halves.at(b, at + 82);
        int y = to;
        int sub = 0;
        for (int half = 0; half < 2; half++, qs += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    int sc = b[scales + sub++] & 0xFF;
                    float dl = d * (sc & 0x0F);
                    float ml = dmin * (sc >>> 4);
                    for (int l = 0; l < 16; l++) {
                        dst[y++] = dl * (((b[qs + 16 * part + l] & 0xFF) >>> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    /**
     * Q3_K {@code {u8 hmask[32]; u8 qs[64]; u8 scales[12]; fp16 d}}: 16 sub-blocks of 16 with 6-bit scales
     * (offset by 32) packed into 12 bytes; codes are 2 low bits in {@code qs} and a high bit in {@code hmask},
     * a clear high bit meaning {@code -4}.
     */
    private static void q3(byte[] b, int at, float[] dst, int to) {
        int hmask = at;
        int qs = at + 32;
        int scales = at + 96;
        float d = Halves.at(b, at + 108);
        int y = to;
        int sub = 0;
        int bit = 1;
        for (int half = 0; half < 2; half++, qs += 32) {
            for (int shift = 0; shift < 8; shift += 2, bit <<= 1) {
                for (int part = 0; part < 2; part++) {
                    float dl = d * (q3Scale(b, scales, sub++) - 32);
                    for (int l = 0; l < 16; l++) {
                        int i = 16 * part + l;
                        int low = ((b[qs + i] & 0xFF) >>> shift) & 3;
                        int high = (b[hmask + i] & bit) != 0 ? 0 : 4;
                        dst[y++] = dl * (low - high);
                    }
                }
            }
        }
    }

    /**
     * The unsigned 6-bit scale of sub-block {@code i} (0-15) of a Q3_K block: bytes 0-7 hold the low 4 bits
     * (sub-blocks 0-7 in the low nibbles, 8-15 in the high ones), bytes 8-11 the high 2 bits, four sub-blocks per byte.
     */
    private static int q3Scale(byte[] b, int scales, int i) {
        int low = ((b[scales + (i & 7)] & 0xFF) >>> (4 * (i >>> 3))) & 0x0F;
        int high = ((b[scales + 8 + (i & 3)] & 0xFF) >>> (2 * (i >>> 2))) & 3;
        return low | high << 4;
    }

    /**
     * Q4_K {@code {fp16 d, dmin; u8 scales[12]; u8 qs[128]}}: 8 sub-blocks of 32 with 6-bit scales and minimums;
     * each 32 bytes of {@code qs} hold two sub-blocks, the first in the low nibbles.
     */
    private static void q4(byte[] b, int at, float[] dst, int to) {
        float d = Halves.at(b, at);
        float dmin = Halves.at(b, at + 2);
        int scales = at + 4;
        int qs = at + 16;
        int y = to;
        for (int pair = 0; pair < 4; pair++, qs += 32) {
            float d1 = d * scaleK4(b, scales, 2 * pair);
            float m1 = dmin * minK4(b, scales, 2 * pair);
            float d2 = d * scaleK4(b, scales, 2 * pair + 1);
            float m2 = dmin * minK4(b, scales, 2 * pair + 1);
            for (int l = 0; l < 32; l++) {
                dst[y++] = d1 * (b[qs + l] & 0x0F) - m1;
            }
            for (int l = 0; l < 32; l++) {
                dst[y++] = d2 * ((b[qs + l] & 0xFF) >>> 4) - m2;
            }
        }
    }

    /** Q5_K {@code {fp16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}}: Q4_K's layout plus a fifth bit per element. */
    private static void q5(byte[] b, int at, float[] dst, int to) {
        float d = Halves.at(b, at);
        float dmin = Halves.at(b, at + 2);
        int scales = at + 4;
        int qh = at + 16;
        int qs = at + 48;
        int y = to;
        int bit = 1;
        for (int pair = 0; pair < 4; pair++, qs += 32, bit <<= 2) {
            float d1 = d * scaleK4(b, scales, 2 * pair);
            float m1 = dmin * minK4(b, scales, 2 * pair);
            float d2 = d * scaleK4(b, scales, 2 * pair + 1);
            float m2 = dmin * minK4(b, scales, 2 * pair + 1);
            for (int l = 0; l < 32; l++) {
                int q = (b[qs + l] & 0x0F) + ((b[qh + l] & bit) != 0 ? 16 : 0);
                dst[y++] = d1 * q - m1;
            }
            for (int l = 0; l < 32; l++) {
                int q = ((b[qs + l] & 0xFF) >>> 4) + ((b[qh + l] & (bit << 1)) != 0 ? 16 : 0);
                dst[y++] = d2 * q - m2;
            }
        }
    }

    /**
     * Q6_K {@code {u8 ql[128]; u8 qh[64]; i8 scales[16]; fp16 d}}: 16 sub-blocks of 16 with signed 8-bit scales;
     * codes are 4 low bits in {@code ql} and 2 high bits in {@code qh}, offset by 32.
     */
    private static void q6(byte[] b, int at, float[] dst, int to) {
        int ql = at;
        int qh = at + 128;
        int sc = at + 192;
        float d = Halves.at(b, at + 208);
        for (int half = 0; half < 2; half++, ql += 64, qh += 32, sc += 8) {
            int y = to + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = b[qh + l] & 0xFF;
                int q1 = ((b[ql + l] & 0x0F) | (h & 3) << 4) - 32;
                int q2 = ((b[ql + l + 32] & 0x0F) | ((h >>> 2) & 3) << 4) - 32;
                int q3 = (((b[ql + l] & 0xFF) >>> 4) | ((h >>> 4) & 3) << 4) - 32;
                int q4 = (((b[ql + l + 32] & 0xFF) >>> 4) | ((h >>> 6) & 3) << 4) - 32;
                dst[y + l] = d * b[sc + is] * q1;
                dst[y + l + 32] = d * b[sc + is + 2] * q2;
                dst[y + l + 64] = d * b[sc + is + 4] * q3;
                dst[y + l + 96] = d * b[sc + is + 6] * q4;
            }
        }
    }

    /**
     * The 6-bit scale of sub-block {@code j} of a Q4_K/Q5_K block (ggml's {@code get_scale_min_k4}): sub-blocks
     * 0-3 in the low 6 bits of bytes 0-3; 4-7 in the low nibbles of bytes 8-11 plus the top 2 bits of bytes 0-3.
     */
    private static int scaleK4(byte[] b, int scales, int j) {
        if (j < 4) {
            return b[scales + j] & 63;
        }
        return (b[scales + j + 4] & 0x0F) | ((b[scales + j - 4] & 0xFF) >>> 6) << 4;
    }

    /** The 6-bit minimum of sub-block {@code j}: bytes 4-7 for 0-3; high nibbles of 8-11 plus top bits of 4-7. */
    private static int minK4(byte[] b, int scales, int j) {
        if (j < 4) {
            return b[scales + j + 4] & 63;
        }
        return ((b[scales + j + 4] & 0xFF) >>> 4) | ((b[scales + j] & 0xFF) >>> 6) << 4;
    }
}
