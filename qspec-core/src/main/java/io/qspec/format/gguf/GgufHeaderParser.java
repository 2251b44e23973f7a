package io.qspec.format.gguf;

import io.qspec.format.ModelFormatException;
import io.qspec.format.TensorType;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates a GGUF header (versions 2 and 3). Nothing is trusted: counts and lengths are
 * checked against the bytes left in the file before anything is allocated or read, and every
 * tensor's data range is checked against the file size, so that a corrupt or truncated file ends
 * in a {@link ModelFormatException} that says where and what, not in a crash.
 */
final class GgufHeaderParser {
    /** "GGUF" read as a little-endian uint32. */
    private static final int MAGIC = 0x46554747;
    /** Used when the file has no general.alignment key. */
    private static final long DEFAULT_ALIGNMENT = 32;
    /** GGML_MAX_DIMS. */
    private static final int MAX_DIMS = 4;
    /** Real files nest arrays at most once; the bound keeps a hostile file from exhausting the stack. */
    private static final int MAX_ARRAY_NESTING = 8;
    /**
     * Caps on counts that a corrupt header could otherwise turn into huge allocations; real models
     * have a few thousand tensors, a few dozen keys and arrays of a few hundred thousand entries.
     */
    private static final long MAX_TENSORS = 1 << 20;
    private static final long MAX_KEYS = 1 << 20;
    private static final long MAX_ARRAY_ELEMENTS = 1 << 24;
    /** Smallest tensor entry: name length (8), n_dims (4), type (4), offset (8). */
    private static final int MIN_TENSOR_INFO_BYTES = 24;
    /** Smallest key/value entry: key length (8), value type (4), a one-byte value. */
    private static final int MIN_KV_BYTES = 13;

    private final GgufCursor in;
    private final Path path;

    private GgufHeaderParser(MemorySegment file, Path path) {
        this.in = new GgufCursor(file, path);
        this.path = path;
    }

    static GgufHeader parse(MemorySegment file, Path path) {
        return new GgufHeaderParser(file, path).parse();
    }

    private GgufHeader parse() {
        checkMagic();
        int version = readVersion();
        long tensorCount = readCount("tensor count", MIN_TENSOR_INFO_BYTES, "tensor entries", MAX_TENSORS);
        long kvCount = readCount("metadata key/value count", MIN_KV_BYTES, "key/value entries", MAX_KEYS);

        GgufMetadata metadata = readMetadata(kvCount);
        long alignment = alignment(metadata);
        List<TensorEntry> entries = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            TensorEntry entry = readTensorEntry(i);
            if (!names.add(entry.name)) {
                throw in.error(entry.headerOffset, "duplicate tensor name '" + entry.name
                        + "' (tensor entry #" + i + "); every tensor name must be unique");
            }
            entries.add(entry);
        }
        long headerEnd = in.position();
        long dataOffset = alignUp(headerEnd, alignment);
        List<GgufTensorInfo> tensors = new ArrayList<>(entries.size());
        for (TensorEntry entry : entries) {
            tensors.add(place(entry, dataOffset, alignment));
        }
        checkNoOverlap(tensors);
        return new GgufHeader(version, metadata, alignment, dataOffset, Collections.unmodifiableList(tensors));
    }

    private void checkMagic() {
        if (in.size() < 4) {
            throw new ModelFormatException(path, "not a GGUF file: it has only " + in.size()
                    + " bytes, fewer than the 4-byte magic 'GGUF'");
        }
        int magic = in.i32("magic");
        if (magic != MAGIC) {
            byte[] found = new byte[4];
            for (int i = 0; i < 4; i++) {
                found[i] = (byte) (magic >>> (8 * i));
            }
            throw in.error(0, "not a GGUF file: expected the magic bytes 'GGUF' (47 47 55 46) but found "
                    + describeBytes(found));
        }
    }

    private int readVersion() {
        long at = in.position();
        int version = in.i32("version");
        if (version == 2 || version == 3) {
            return version;
        }
        if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
            throw in.error(at, "this is a big-endian GGUF file (version " + Integer.reverseBytes(version)
                    + " byte-swapped); only little-endian GGUF is supported — re-convert the model without --bigendian");
        }
        String hint = version == 1 ? " (GGUF v1 predates 64-bit lengths; re-convert the model with a current llama.cpp)" : "";
        throw in.error(at, "unsupported GGUF version " + Integer.toUnsignedString(version)
                + "; expected 2 or 3" + hint);
    }

    /** A uint64 count whose entries need at least {@code minEntryBytes} each: rejects counts that cannot fit. */
    private long readCount(String what, int minEntryBytes, String entries, long limit) {
        long at = in.position();
        long count = in.i64(what);
        long fits = in.remaining() / minEntryBytes;
        if (count < 0 || count > fits) {
            throw in.error(at, what + " is " + Long.toUnsignedString(count) + ", but the " + in.remaining()
                    + " bytes left in the file can hold at most " + fits + " " + entries
                    + " (the header is corrupt or the file is truncated)");
        }
        if (count > limit) {
            throw in.error(at, what + " is " + count + "; more than " + limit + " " + entries
                    + " are not supported (the header is probably corrupt)");
        }
        return count;
    }

    private GgufMetadata readMetadata(long kvCount) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long at = in.position();
            String key = in.string("key of metadata entry #" + i);
            if (values.containsKey(key)) {
                throw in.error(at, "duplicate metadata key '" + key + "'; every key must be unique");
            }
            GgufValueType type = readValueType("metadata '" + key + "'");
            values.put(key, readValue(type, key, "value of metadata '" + key + "'", 0));
        }
        return new GgufMetadata(values);
    }

    private GgufValueType readValueType(String owner) {
        long at = in.position();
        int id = in.i32("value type of " + owner);
        return GgufValueType.byId(id).orElseThrow(() -> in.error(at, owner + " has unknown value type "
                + Integer.toUnsignedString(id) + "; expected 0..12 (uint8 .. float64)"));
    }

    /** One value; {@code what} names it in messages (built once per key, not per array element). */
    private Object readValue(GgufValueType type, String key, String what, int depth) {
        return switch (type) {
            case UINT8 -> (long) (in.i8(what) & 0xFF);
            case INT8 -> (long) in.i8(what);
            case UINT16 -> (long) (in.i16(what) & 0xFFFF);
            case INT16 -> (long) in.i16(what);
            case UINT32 -> in.i32(what) & 0xFFFF_FFFFL;
            case INT32 -> (long) in.i32(what);
            case FLOAT32 -> (double) in.f32(what);
            case BOOL -> in.i8(what) != 0;
            case STRING -> in.string(what);
            case ARRAY -> readArray(key, depth);
            // uint64 values above Long.MAX_VALUE keep their bits (they read as negative longs)
            case UINT64, INT64 -> in.i64(what);
            case FLOAT64 -> in.f64(what);
        };
    }

    private List<Object> readArray(String key, int depth) {
        long at = in.position();
        if (depth >= MAX_ARRAY_NESTING) {
            throw in.error(at, "metadata '" + key + "' nests arrays more than " + MAX_ARRAY_NESTING + " deep");
        }
        GgufValueType elementType = readValueType("array elements of metadata '" + key + "'");
        long count = in.i64("element count of metadata array '" + key + "'");
        long fits = in.remaining() / elementType.minBytes();
        if (count < 0 || count > fits) {
            throw in.error(at, "metadata array '" + key + "' claims " + Long.toUnsignedString(count) + " "
                    + elementType.name().toLowerCase() + " elements, but the " + in.remaining()
                    + " bytes left in the file can hold at most " + fits + " (the file is corrupt or truncated)");
        }
        if (count > MAX_ARRAY_ELEMENTS) {
            throw in.error(at, "metadata array '" + key + "' claims " + count + " elements; more than "
                    + MAX_ARRAY_ELEMENTS + " are not supported (the file is probably corrupt)");
        }
        List<Object> list = new ArrayList<>((int) count);
        String what = "element of metadata array '" + key + "'";
        for (int i = 0; i < count; i++) {
            list.add(readValue(elementType, key, what, depth + 1));
        }
        return Collections.unmodifiableList(list);
    }

    private long alignment(GgufMetadata metadata) {
        Object value = metadata.asMap().get("general.alignment");
        if (value == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (!(value instanceof Long alignment) || alignment <= 0 || alignment > (1L << 30)
                || Long.bitCount(alignment) != 1) {
            throw new ModelFormatException(path, "metadata 'general.alignment' is " + value
                    + "; expected a power of two between 1 and 2^30");
        }
        return alignment;
    }

    /** A tensor entry as read, before its data range is placed in the file. */
    private record TensorEntry(String name, long headerOffset, TensorType type, long[] shape, long relativeOffset,
                               long byteSize) {
    }

    private TensorEntry readTensorEntry(long index) {
        long at = in.position();
        String name = in.string("name of tensor entry #" + index);
        String owner = "tensor '" + name + "'";
        int nDims = in.i32("dimension count of " + owner);
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw in.error(at, owner + " has " + Integer.toUnsignedString(nDims) + " dimensions; expected 1 to " + MAX_DIMS);
        }
        long[] ggufDims = new long[nDims];
        for (int d = 0; d < nDims; d++) {
            long dimAt = in.position();
            ggufDims[d] = in.i64("dimension " + d + " of " + owner);
            if (ggufDims[d] < 0) {
                throw in.error(dimAt, owner + " has dimension " + d + " = " + Long.toUnsignedString(ggufDims[d])
                        + ", which is not a valid size");
            }
        }
        long typeAt = in.position();
        int ggmlType = in.i32("type of " + owner);
        long relativeOffset = in.i64("data offset of " + owner);
        TensorType type = GgmlType.toTensorType(ggmlType).orElseThrow(() -> in.error(typeAt,
                "unsupported tensor type " + GgmlType.describe(ggmlType) + " for tensor " + name
                        + "; supported: " + GgmlType.supportedList()
                        + " (convert the model to one of these, e.g. with llama.cpp's llama-quantize to Q4_K_M, Q8_0 or F16)"));

        long elements = 1;
        for (long dim : ggufDims) {
            try {
                elements = Math.multiplyExact(elements, dim);
            } catch (ArithmeticException overflow) {
                throw in.error(at, owner + " has dimensions " + Arrays.toString(ggufDims)
                        + " whose element count overflows 64 bits");
            }
        }
        if (ggufDims[0] % type.blockSize() != 0) {
            throw in.error(at, owner + " is " + type + " with rows of " + ggufDims[0]
                    + " elements, which is not a multiple of the block size " + type.blockSize());
        }
        long byteSize;
        try {
            byteSize = Math.multiplyExact(elements / type.blockSize(), (long) type.blockBytes());
        } catch (ArithmeticException overflow) {
            throw in.error(at, owner + " with " + elements + " " + type + " elements needs more than 2^63 bytes");
        }
        long[] shape = new long[nDims];
        for (int d = 0; d < nDims; d++) {
            shape[d] = ggufDims[nDims - 1 - d];   // GGUF lists the contiguous dimension first
        }
        return new TensorEntry(name, at, type, shape, relativeOffset, byteSize);
    }

    private GgufTensorInfo place(TensorEntry entry, long dataOffset, long alignment) {
        String owner = "tensor '" + entry.name + "'";
        long relative = entry.relativeOffset;
        if (relative < 0 || relative > in.size()) {
            throw new ModelFormatException(path, "file is truncated or corrupt: " + owner + " has data offset "
                    + Long.toUnsignedString(relative) + " (relative to the data section at byte " + dataOffset
                    + "), beyond the end of the file of " + in.size() + " bytes");
        }
        if (relative % alignment != 0) {
            throw in.error(entry.headerOffset, owner + " has data offset " + relative
                    + ", which is not a multiple of the alignment " + alignment);
        }
        // relative <= file size and dataOffset <= file size + alignment, so start cannot overflow;
        // start + byteSize (both below 2^63) cannot overflow as an unsigned 64-bit value
        long start = dataOffset + relative;
        long end = start + entry.byteSize;
        if (Long.compareUnsigned(end, in.size()) > 0) {
            throw new ModelFormatException(path, "file is truncated: tensor " + entry.name + " needs bytes ["
                    + start + ", " + Long.toUnsignedString(end) + ") but the file has " + in.size()
                    + " bytes — re-download or re-convert the model");
        }
        return new GgufTensorInfo(entry.name, entry.type, entry.shape, start, entry.byteSize);
    }

    private void checkNoOverlap(List<GgufTensorInfo> tensors) {
        List<GgufTensorInfo> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(GgufTensorInfo::fileOffset));
        for (int i = 1; i < byOffset.size(); i++) {
            GgufTensorInfo previous = byOffset.get(i - 1);
            GgufTensorInfo current = byOffset.get(i);
            if (previous.fileOffset() + previous.byteSize() > current.fileOffset()) {
                throw new ModelFormatException(path, "tensors '" + previous.name() + "' (bytes ["
                        + previous.fileOffset() + ", " + (previous.fileOffset() + previous.byteSize())
                        + ")) and '" + current.name() + "' (from byte " + current.fileOffset()
                        + ") overlap; the tensor offsets in the header are corrupt");
            }
        }
    }

    private static long alignUp(long offset, long alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private static String describeBytes(byte[] bytes) {
        StringBuilder hex = new StringBuilder();
        for (byte b : bytes) {
            hex.append(hex.isEmpty() ? "" : " ").append(String.format("%02x", b & 0xFF));
        }
        String ascii = new String(bytes, StandardCharsets.ISO_8859_1).replaceAll("[^\\x20-\\x7e]", ".");
        return "'" + ascii + "' (" + hex + ")";
    }
}
