package io.qspec.format.gguf;

import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorSource;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A GGUF model file (versions 2 and 3), memory-mapped read-only. {@link #open} validates the whole
 * header (metadata, tensor shapes and types, every tensor's byte range) against the file before
 * returning, so a corrupt or truncated file fails there with a {@link ModelFormatException} rather
 * than later inside a kernel. Tensors are zero-copy slices of the mapping, shaped in row-major
 * (PyTorch) order: GGUF's dimension list reversed.
 *
 * <p>Thread-safe. {@link #close()} unmaps the file; tensors handed out before must not be used
 * afterwards (their memory segments then throw {@link IllegalStateException}).
 */
public final class GgufFile implements TensorSource {
    private final Path location;
    private final Arena arena;
    private final GgufHeader header;
    private final Map<String, RawTensor> tensors;
    private final AtomicBoolean closed = new AtomicBoolean();

    private GgufFile(Path location, Arena arena, MemorySegment mapping, GgufHeader header) {
        this.location = location;
        this.arena = arena;
        this.header = header;
        Map<String, RawTensor> byName = new LinkedHashMap<>();
        for (GgufTensorInfo info : header.tensors()) {
            MemorySegment data = mapping.asSlice(info.fileOffset(), info.byteSize());
            byName.put(info.name(), new RawTensor(info.name(), info.type(), info.shape(), data));
        }
        this.tensors = Collections.unmodifiableMap(byName);
    }

    /**
     * Maps and validates {@code path}.
     *
     * @throws ModelFormatException when the file cannot be read or is not a valid GGUF v2/v3 file
     *                              whose tensors all have supported types
     */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            GgufHeader header = GgufHeaderParser.parse(mapping, path);
            return new GgufFile(path, arena, mapping, header);
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(path, "cannot read the file: " + e, e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public Path location() {
        return location;
    }

    /** GGUF version of the file: 2 or 3. */
    public int version() {
        return header.version();
    }

    /** Alignment of the tensor data ({@code general.alignment}, 32 when absent). */
    public long alignment() {
        return header.alignment();
    }

    /** Absolute byte offset of the tensor data section. */
    public long dataOffset() {
        return header.dataOffset();
    }

    /** Tensor names in file order. */
    @Override
    public Set<String> tensorNames() {
        return tensors.keySet();
    }

    /** All tensors in file order. */
    public List<RawTensor> tensors() {
        checkOpen();
        return new ArrayList<>(tensors.values());
    }

    @Override
    public Optional<RawTensor> find(String name) {
        checkOpen();
        return Optional.ofNullable(tensors.get(name));
    }

    /**
     * Metadata in file order: integers as {@link Long} (uint64 values above {@link Long#MAX_VALUE}
     * keep their bits), floats as {@link Double}, {@link Boolean}, {@link String}, and arrays as
     * unmodifiable {@code List<Object>} of those (possibly nested).
     */
    @Override
    public ModelMetadata metadata() {
        return header.metadata();
    }

    /** Unmaps the file. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException(location + " has been closed");
        }
    }

    @Override
    public String toString() {
        return "GgufFile[" + location + ", v" + header.version() + ", " + tensors.size() + " tensors, "
                + header.metadata().asMap().size() + " metadata keys]";
    }
}
