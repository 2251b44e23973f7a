package io.qspec.format.safetensors;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.qspec.format.ModelFormatException;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One memory-mapped {@code .safetensors} file: an 8-byte little-endian header length, a JSON
 * header describing each tensor ({@code dtype}, {@code shape}, {@code data_offsets} relative to the
 * data section that follows the header), then the data. Everything in the header is checked when
 * the file is opened, so a corrupt or truncated download fails here with a message naming the file
 * and tensor, not later inside a matrix multiplication. Closing unmaps the file; tensors obtained
 * from it must not be used afterwards.
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final ValueLayout.OfLong HEADER_LENGTH = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** The reference implementation refuses headers above 100 MB; a larger value means a corrupt length. */
    private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final String METADATA_KEY = "__metadata__";

    private final Path path;
    private final Arena arena;
    private final Map<String, RawTensor> tensors;
    private final Map<String, String> headerMetadata;

    private SafetensorsFile(Path path, Arena arena, Map<String, RawTensor> tensors, Map<String, String> headerMetadata) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.headerMetadata = headerMetadata;
    }

    /**
     * Maps {@code file} and validates its header.
     *
     * @throws ModelFormatException when the file is missing, unreadable, truncated, has a malformed
     *     header, or holds a tensor of a type other than F32, F16 or BF16
     */
    public static SafetensorsFile open(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file, "safetensors file not found");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment mapped = size == 0 ? MemorySegment.NULL : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return parse(file, arena, mapped, size);
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(file, "cannot be memory-mapped: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(Path file, Arena arena, MemorySegment mapped, long fileSize) {
        if (fileSize < 8) {
            throw new ModelFormatException(file, "file is truncated: it holds " + fileSize
                    + " bytes but a safetensors file starts with an 8-byte header length — re-download the model");
        }
        long headerLength = mapped.get(HEADER_LENGTH, 0);
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
            throw new ModelFormatException(file, "bad header length " + Long.toUnsignedString(headerLength)
                    + " in the first 8 bytes (expected 2.." + MAX_HEADER_BYTES
                    + "); this is not a safetensors file or it is corrupt");
        }
        if (8 + headerLength > fileSize) {
            throw new ModelFormatException(file, "file is truncated: the header needs bytes [8," + (8 + headerLength)
                    + ") but the file holds " + fileSize + " bytes — re-download the model");
        }
        JsonObject header = parseHeader(file, mapped.asSlice(8, headerLength));
        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;

        Map<String, RawTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonElement> entry : header.entrySet()) {
            String name = entry.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = readHeaderMetadata(file, entry.getValue());
                continue;
            }
            TensorEntry t = TensorEntry.read(file, name, entry.getValue());
            if (t.end() > dataSize) {
                throw new ModelFormatException(file, "file is truncated: tensor '" + name + "' needs bytes ["
                        + t.begin() + "," + t.end() + ") of the data section but it holds " + dataSize
                        + " bytes — re-download the model");
            }
            MemorySegment data = mapped.asSlice(dataStart + t.begin(), t.end() - t.begin());
            tensors.put(name, new RawTensor(name, t.type(), t.shape(), data));
        }
        return new SafetensorsFile(file, arena, Collections.unmodifiableMap(tensors), metadata);
    }

    private static JsonObject parseHeader(Path file, MemorySegment headerBytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(headerBytes.asByteBuffer())
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file, "header is not UTF-8 text; the file is corrupt or not safetensors", e);
        }
        try {
            return JsonValues.parseObject(file, text);
        } catch (ModelFormatException e) {
            throw new ModelFormatException(file, "header (" + headerBytes.byteSize() + " bytes after the length) "
                    + e.getMessage().substring(file.toString().length() + 2), e);
        }
    }

    private static Map<String, String> readHeaderMetadata(Path file, JsonElement value) {
        if (!value.isJsonObject()) {
            throw new ModelFormatException(file, "header entry '__metadata__' must be an object of strings but is "
                    + JsonValues.describe(value));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
            metadata.put(e.getKey(), e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : e.getValue().toString());
        }
        return Collections.unmodifiableMap(metadata);
    }

    /** One validated header entry, before it is bound to the mapped bytes. */
    private record TensorEntry(TensorType type, long[] shape, long begin, long end) {

        static TensorEntry read(Path file, String name, JsonElement value) {
            if (!value.isJsonObject()) {
                throw bad(file, name, "must be an object with dtype, shape and data_offsets but is " + JsonValues.describe(value));
            }
            JsonObject o = value.getAsJsonObject();
            JsonElement dtype = o.get("dtype");
            if (dtype == null || !dtype.isJsonPrimitive() || !dtype.getAsJsonPrimitive().isString()) {
                throw bad(file, name, "has no string 'dtype'");
            }
            TensorType type = switch (dtype.getAsString()) {
                case "F32" -> TensorType.F32;
                case "F16" -> TensorType.F16;
                case "BF16" -> TensorType.BF16;
                default -> throw bad(file, name, "has dtype " + dtype.getAsString()
                        + ", which QSpec cannot load (supported: F32, F16, BF16)");
            };
            long[] shape = longs(file, name, o, "shape", -1);
            long[] offsets = longs(file, name, o, "data_offsets", 2);
            long begin = offsets[0];
            long end = offsets[1];
            if (begin > end) {
                throw bad(file, name, "has data_offsets [" + begin + "," + end + ") that end before they begin");
            }
            BigInteger elements = BigInteger.ONE;
            for (long d : shape) {
                elements = elements.multiply(BigInteger.valueOf(d));
            }
            BigInteger expected = elements.multiply(BigInteger.valueOf(type.blockBytes()));
            if (!expected.equals(BigInteger.valueOf(end - begin))) {
                throw bad(file, name, "has shape " + Arrays.toString(shape) + " of " + type + ", which needs " + expected
                        + " bytes, but data_offsets [" + begin + "," + end + ") span " + (end - begin) + " bytes");
            }
            return new TensorEntry(type, shape, begin, end);
        }

        private static long[] longs(Path file, String name, JsonObject o, String key, int requiredLength) {
            JsonElement e = o.get(key);
            if (e == null || !e.isJsonArray()) {
                throw bad(file, name, "has no '" + key + "' array");
            }
            JsonArray array = e.getAsJsonArray();
            if (requiredLength >= 0 && array.size() != requiredLength) {
                throw bad(file, name, "'" + key + "' must hold " + requiredLength + " numbers but holds " + array.size());
            }
            long[] values = new long[array.size()];
            for (int i = 0; i < values.length; i++) {
                JsonElement item = array.get(i);
                Object v = JsonValues.toJava(item);
                if (!(v instanceof Long l) || l < 0) {
                    throw bad(file, name, "'" + key + "' must hold non-negative integers but element " + i + " is "
                            + JsonValues.describe(item));
                }
                values[i] = l;
            }
            return values;
        }

        private static ModelFormatException bad(Path file, String name, String problem) {
            return new ModelFormatException(file, "header entry for tensor '" + name + "' " + problem);
        }
    }

    /** The file this was mapped from. */
    public Path path() {
        return path;
    }

    /** Tensor names in header order. */
    public Set<String> tensorNames() {
        return tensors.keySet();
    }

    /** The tensor called {@code name}, its data a slice of the mapped file. */
    public Optional<RawTensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** All tensors by name, in header order. */
    public Map<String, RawTensor> tensors() {
        return tensors;
    }

    /** The free-form {@code __metadata__} header entry (string to string; empty when absent). */
    public Map<String, String> headerMetadata() {
        return headerMetadata;
    }

    /** Unmaps the file. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
