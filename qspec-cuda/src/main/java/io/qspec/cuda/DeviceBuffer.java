package io.qspec.cuda;

import java.lang.foreign.MemorySegment;

/**
 * A range of device memory: an address and a length in bytes. It is only a description (the GPU's
 * memory cannot be touched from Java); {@link DeviceMemory} owns and frees allocations, and views
 * made with {@link #slice} share their parent's lifetime.
 */
record DeviceBuffer(long address, long bytes) {
    public DeviceBuffer {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative size " + bytes);
        }
    }

    /** The address as a zero-length segment, which is what the downcalls take for {@code void*}. */
    public MemorySegment pointer() {
        return MemorySegment.ofAddress(address);
    }

    /** The sub-range {@code [offset, offset + length)}, checked against this buffer. */
    public DeviceBuffer slice(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > bytes) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + (offset + length) + ") of a "
                    + bytes + "-byte device buffer");
        }
        return new DeviceBuffer(address + offset, length);
    }
}
