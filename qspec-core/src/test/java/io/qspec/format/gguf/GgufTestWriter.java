package io.qspec.format.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Builds small GGUF files byte by byte for tests, including deliberately broken ones: nothing here
 * validates, so a test can write any count, length, type or offset it wants.
 */
final class GgufTestWriter {
    private final LittleEndianBytes kvs = new LittleEndianBytes();
    private final LittleEndianBytes tensorInfos = new LittleEndianBytes();
    private final LittleEndianBytes data = new LittleEndianBytes();
    private int version = 3;
    private long kvCount;
    private long tensorCount;
    private long alignment = 32;
    private Long kvCountOverride;
    private Long tensorCountOverride;

    GgufTestWriter version(int v) {
        version = v;
        return this;
    }

    /** Alignment used to pad the header (does not write the key; use {@link #kv} for that). */
    GgufTestWriter alignment(long a) {
        alignment = a;
        return this;
    }

    GgufTestWriter kvCount(long count) {
        kvCountOverride = count;
        return this;
    }

    GgufTestWriter tensorCount(long count) {
        tensorCountOverride = count;
        return this;
    }

    /** One key/value: the key, the value type number, then {@code value} writes the value bytes. */
    GgufTestWriter kv(String key, int valueType, Consumer<LittleEndianBytes> value) {
        kvs.string(key).u32(valueType);
        value.accept(kvs);
        kvCount++;
        return this;
    }

    GgufTestWriter kvString(String key, String value) {
        return kv(key, 8, b -> b.string(value));
    }

    GgufTestWriter kvU32(String key, long value) {
        return kv(key, 4, b -> b.u32(value));
    }

    /** A tensor entry; {@code ggufDims} in GGUF order (contiguous first); offset relative to the data section. */
    GgufTestWriter tensor(String name, int ggmlType, long offset, long... ggufDims) {
        tensorInfos.string(name).u32(ggufDims.length);
        for (long d : ggufDims) {
            tensorInfos.u64(d);
        }
        tensorInfos.u32(ggmlType).u64(offset);
        tensorCount++;
        return this;
    }

    /** Appends raw tensor data at the end of the data section. */
    GgufTestWriter data(Consumer<LittleEndianBytes> bytes) {
        bytes.accept(data);
        return this;
    }

    byte[] toBytes() {
        LittleEndianBytes out = new LittleEndianBytes();
        out.raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version)
                .u64(tensorCountOverride != null ? tensorCountOverride : tensorCount)
                .u64(kvCountOverride != null ? kvCountOverride : kvCount)
                .raw(kvs.toByteArray()).raw(tensorInfos.toByteArray());
        while (out.size() % alignment != 0) {
            out.u8(0);
        }
        return out.raw(data.toByteArray()).toByteArray();
    }

    Path writeTo(Path file) {
        try {
            return Files.write(file, toBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A growable little-endian byte buffer. */
    static final class LittleEndianBytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        LittleEndianBytes u8(int v) {
            out.write(v);
            return this;
        }

        LittleEndianBytes u16(int v) {
            return u8(v).u8(v >>> 8);
        }

        LittleEndianBytes u32(long v) {
            return u16((int) v).u16((int) (v >>> 16));
        }

        LittleEndianBytes u64(long v) {
            return u32(v).u32(v >>> 32);
        }

        LittleEndianBytes f32(float v) {
            return u32(Float.floatToRawIntBits(v));
        }

        LittleEndianBytes f16(float v) {
            return u16(Float.floatToFloat16(v));
        }

        LittleEndianBytes f64(double v) {
            return u64(Double.doubleToRawLongBits(v));
        }

        LittleEndianBytes string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            return u64(bytes.length).raw(bytes);
        }

        LittleEndianBytes raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        int size() {
            return out.size();
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
