package io.qspec.examples.peers;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a {@code model.safetensors} file whose tensors are all BF16, the dtype most Hugging Face Llama
 * checkpoints ship in and one that both QSpec and Jlama load. Tensors are declared first (the header
 * holds every offset) and then streamed in declaration order, so no tensor is held twice in memory.
 */
final class Bf16SafetensorsWriter implements AutoCloseable {

    /** Produces one tensor's values in row-major order. */
    interface Values {
        float next();
    }

    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Path file;
    private FileChannel channel;
    private int written;

    Bf16SafetensorsWriter(Path file) {
        this.file = file;
    }

    /** Declares the next tensor; all tensors must be declared before the first {@link #write}. */
    void declare(String name, long... shape) {
        if (channel != null) {
            throw new IllegalStateException("declare every tensor before writing");
        }
        shapes.put(name, shape.clone());
    }

    /** Writes the next declared tensor (in declaration order), filling it from {@code values}. */
    void write(String name, Values values) throws IOException {
        if (channel == null) {
            openAndWriteHeader();
        }
        String expected = shapes.keySet().stream().skip(written).findFirst()
                .orElseThrow(() -> new IllegalStateException("no tensor left to write: " + name));
        if (!expected.equals(name)) {
            throw new IllegalStateException("tensors must be written in declaration order: expected " + expected + ", got " + name);
        }
        long count = elements(shapes.get(name));
        ByteBuffer buffer = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < count; i++) {
            if (!buffer.hasRemaining()) {
                flush(buffer);
            }
            buffer.putShort(toBf16(values.next()));
        }
        flush(buffer);
        written++;
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
        if (written != shapes.size()) {
            throw new IllegalStateException("wrote " + written + " of " + shapes.size() + " declared tensors");
        }
    }

    /** Round-to-nearest-even float to bfloat16 (finite inputs only, which is all we produce). */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private void openAndWriteHeader() throws IOException {
        JsonObject header = new JsonObject();
        JsonObject metadata = new JsonObject();
        metadata.addProperty("format", "pt");
        header.add("__metadata__", metadata);
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long bytes = 2 * elements(e.getValue());
            JsonObject t = new JsonObject();
            t.addProperty("dtype", "BF16");
            JsonArray shape = new JsonArray();
            for (long d : e.getValue()) {
                shape.add(d);
            }
            t.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            t.add("data_offsets", offsets);
            header.add(e.getKey(), t);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        // the format pads the header with spaces so that tensor data starts 8-byte aligned
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        flush(head);
    }

    private void flush(ByteBuffer buffer) throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
