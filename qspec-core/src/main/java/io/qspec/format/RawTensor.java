package io.qspec.format;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor as stored in a file: its name, element type, shape and bytes (usually a slice of a
 * memory-mapped file). Shapes are row-major with the <em>last</em> dimension contiguous, as in
 * PyTorch: a linear layer's weight is {@code [out, in]}. (GGUF lists dimensions the other way
 * round; its reader reverses them.)
 */
public record RawTensor(String name, TensorType type, long[] shape, MemorySegment data) {

    public RawTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = shape.clone();
        Objects.requireNonNull(data, "data");
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * Decodes element {@code index} (flat, row-major) to float. Convenient for small tensors
     * (norm weights) and tests; bulk conversion goes through {@link TensorDecoding}.
     */
    public float getFloat(long index) {
        return TensorDecoding.element(this, index);
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RawTensor t && t.name.equals(name) && t.type == type && Arrays.equals(t.shape, shape)
                && t.data.equals(data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(shape));
    }
}
