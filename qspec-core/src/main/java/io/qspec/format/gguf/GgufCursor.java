package io.qspec.format.gguf;

import io.qspec.format.ModelFormatException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A little-endian read position in a mapped GGUF file. Every read is checked against the file
 * size first, so a corrupt length field becomes a {@link ModelFormatException} naming the byte
 * offset, never an out-of-bounds error from the memory segment.
 */
final class GgufCursor {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Far above any real metadata string (chat templates are kilobytes), far below what would exhaust the heap. */
    static final int MAX_STRING_BYTES = 64 << 20;

    private final MemorySegment file;
    private final Path path;
    private long position;

    GgufCursor(MemorySegment file, Path path) {
        this.file = file;
        this.path = path;
    }

    long position() {
        return position;
    }

    long size() {
        return file.byteSize();
    }

    long remaining() {
        return file.byteSize() - position;
    }

    ModelFormatException error(long offset, String problem) {
        return new ModelFormatException(path, "at byte offset " + offset + ": " + problem);
    }

    /** Fails unless {@code bytes} more bytes can be read; {@code what} names the field for the message. */
    void require(long bytes, String what) {
        if (bytes < 0 || bytes > remaining()) {
            throw new ModelFormatException(path, "file is truncated: at byte offset " + position + ", " + what
                    + " needs " + Long.toUnsignedString(bytes) + " bytes but only " + remaining()
                    + " remain (the file has " + size() + " bytes) — re-download or re-convert the model");
        }
    }

    byte i8(String what) {
        require(1, what);
        byte v = file.get(ValueLayout.JAVA_BYTE, position);
        position += 1;
        return v;
    }

    short i16(String what) {
        require(2, what);
        short v = file.get(I16, position);
        position += 2;
        return v;
    }

    int i32(String what) {
        require(4, what);
        int v = file.get(I32, position);
        position += 4;
        return v;
    }

    long i64(String what) {
        require(8, what);
        long v = file.get(I64, position);
        position += 8;
        return v;
    }

    float f32(String what) {
        require(4, what);
        float v = file.get(F32, position);
        position += 4;
        return v;
    }

    double f64(String what) {
        require(8, what);
        double v = file.get(F64, position);
        position += 8;
        return v;
    }

    /**
     * A GGUF string: uint64 byte length, then UTF-8 bytes (not NUL-terminated). Malformed UTF-8 is
     * replaced rather than rejected, as llama.cpp stores some vocabularies' byte pieces that way.
     */
    String string(String what) {
        long start = position;
        require(8, what);   // no per-call message building: token arrays hold 100k+ strings
        long length = file.get(I64, position);
        position += 8;
        if (length < 0 || length > remaining()) {
            throw error(start, what + " claims a length of " + Long.toUnsignedString(length)
                    + " bytes but only " + remaining() + " bytes remain in the file"
                    + " (the file is corrupt or truncated)");
        }
        if (length > MAX_STRING_BYTES) {
            throw error(start, what + " claims a length of " + length + " bytes; strings longer than "
                    + MAX_STRING_BYTES + " bytes are not supported (the file is probably corrupt)");
        }
        byte[] bytes = new byte[(int) length];
        MemorySegment.copy(file, ValueLayout.JAVA_BYTE, position, bytes, 0, bytes.length);
        position += length;
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
