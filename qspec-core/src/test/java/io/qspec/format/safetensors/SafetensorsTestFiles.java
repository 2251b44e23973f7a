package io.qspec.format.safetensors;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Writes small .safetensors files for tests, independently of the reader under test. */
final class SafetensorsTestFiles {
    private SafetensorsTestFiles() {
    }

    /** One tensor to write: its header fields and raw little-endian bytes. */
    record Entry(String name, String dtype, long[] shape, byte[] data) {
    }

    /** Writes {@code entries} back to back into {@code file}, with offsets computed from the byte arrays. */
    static Path write(Path file, List<Entry> entries) throws IOException {
        JsonObject header = new JsonObject();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Entry e : entries) {
            JsonObject t = new JsonObject();
            t.addProperty("dtype", e.dtype());
            JsonArray shape = new JsonArray();
            for (long d : e.shape()) {
                shape.add(d);
            }
            t.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(data.size());
            offsets.add(data.size() + e.data().length);
            t.add("data_offsets", offsets);
            header.add(e.name(), t);
            data.write(e.data());
        }
        return writeRaw(file, header.toString(), data.toByteArray());
    }

    /** Writes a file from a literal header text (padded to 8 bytes with spaces, as the reference writer does) and data. */
    static Path writeRaw(Path file, String headerJson, byte[] data) throws IOException {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded);
        out.put(header);
        for (int i = header.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        out.put(data);
        return Files.write(file, out.array());
    }

    static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] f16(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putShort(Float.floatToFloat16(v));
        }
        return b.array();
    }

    /** BF16 by truncation: exact for the values tests use. */
    static byte[] bf16(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
        }
        return b.array();
    }

    static List<Entry> entries(Entry... e) {
        return new ArrayList<>(List.of(e));
    }
}
