package io.qspec.cuda.ffm;

import static io.qspec.cuda.ffm.Bindings.C_INT;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout.OfInt;

/**
 * The struct {@code qspec_rejection} of {@code native/include/qspec_cuda.h} (one lane of
 * {@code qspec_rejection_sample}), in the shape jextract generates: its layout, and a static getter and
 * setter per field.
 */
public final class qspec_rejection {
    private qspec_rejection() {
    }

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            C_INT.withName("gamma"),
            C_INT.withName("draft_offset"),
            C_INT.withName("verify_offset"),
            C_INT.withName("reserved")
    ).withName("qspec_rejection");

    /** The layout of this struct (16 bytes). */
    public static GroupLayout layout() {
        return $LAYOUT;
    }

    /** Bytes of one struct. */
    public static long sizeof() {
        return $LAYOUT.byteSize();
    }

    /** Room for {@code elementCount} structs. */
    public static MemorySegment allocateArray(long elementCount, SegmentAllocator allocator) {
        return allocator.allocate(MemoryLayout.sequenceLayout(elementCount, $LAYOUT));
    }

    /** Struct {@code index} of an array of them. */
    public static MemorySegment asSlice(MemorySegment array, long index) {
        return array.asSlice(sizeof() * index, sizeof());
    }

    private static final OfInt gamma$LAYOUT = (OfInt) $LAYOUT.select(groupElement("gamma"));
    private static final long gamma$OFFSET = 0;

    /** Getter for field {@code int32_t gamma}. */
    public static int gamma(MemorySegment struct) {
        return struct.get(gamma$LAYOUT, gamma$OFFSET);
    }

    /** Setter for field {@code int32_t gamma}. */
    public static void gamma(MemorySegment struct, int fieldValue) {
        struct.set(gamma$LAYOUT, gamma$OFFSET, fieldValue);
    }

    private static final OfInt draft_offset$LAYOUT = (OfInt) $LAYOUT.select(groupElement("draft_offset"));
    private static final long draft_offset$OFFSET = 4;

    /** Getter for field {@code int32_t draft_offset}. */
    public static int draft_offset(MemorySegment struct) {
        return struct.get(draft_offset$LAYOUT, draft_offset$OFFSET);
    }

    /** Setter for field {@code int32_t draft_offset}. */
    public static void draft_offset(MemorySegment struct, int fieldValue) {
        struct.set(draft_offset$LAYOUT, draft_offset$OFFSET, fieldValue);
    }

    private static final OfInt verify_offset$LAYOUT = (OfInt) $LAYOUT.select(groupElement("verify_offset"));
    private static final long verify_offset$OFFSET = 8;

    /** Getter for field {@code int32_t verify_offset}. */
    public static int verify_offset(MemorySegment struct) {
        return struct.get(verify_offset$LAYOUT, verify_offset$OFFSET);
    }

    /** Setter for field {@code int32_t verify_offset}. */
    public static void verify_offset(MemorySegment struct, int fieldValue) {
        struct.set(verify_offset$LAYOUT, verify_offset$OFFSET, fieldValue);
    }

    private static final OfInt reserved$LAYOUT = (OfInt) $LAYOUT.select(groupElement("reserved"));
    private static final long reserved$OFFSET = 12;

    /** Getter for field {@code int32_t reserved}. */
    public static int reserved(MemorySegment struct) {
        return struct.get(reserved$LAYOUT, reserved$OFFSET);
    }

    /** Setter for field {@code int32_t reserved}. */
    public static void reserved(MemorySegment struct, int fieldValue) {
        struct.set(reserved$LAYOUT, reserved$OFFSET, fieldValue);
    }
}
