package io.qspec.format;

/** Little-endian IEEE half-precision values inside block bytes. */
final class Halves {
    private Halves() {
    }

    /** The fp16 value at {@code b[at]}, {@code b[at + 1]}, as float (exact). */
    static float at(byte[] b, int at) {
        return Float.float16ToFloat((short) ((b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8));
    }
}
