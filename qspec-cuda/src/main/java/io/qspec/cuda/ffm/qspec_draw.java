package io.qspec.cuda.ffm;

import static io.qspec.cuda.ffm.Bindings.C_DOUBLE;
import static io.qspec.cuda.ffm.Bindings.C_INT;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout.OfDouble;
import java.lang.foreign.ValueLayout.OfInt;

/**
 * The struct {@code qspec_draw} of {@code native/include/qspec_cuda.h} (one draw of {@code qspec_sample}),
 * in the shape jextract generates: its layout, and a static getter and setter per field.
 */
public final class qspec_draw {
    private qspec_draw() {
    }

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            C_INT.withName("row"),
            C_INT.withName("top_k"),
            C_INT.withName("history_offset"),
            C_INT.withName("history_length"),
            C_DOUBLE.withName("temperature"),
            C_DOUBLE.withName("top_p"),
            C_DOUBLE.withName("min_p"),
            C_DOUBLE.withName("repetition_penalty"),
            C_DOUBLE.withName("frequency_penalty"),
            C_DOUBLE.withName("presence_penalty"),
            C_DOUBLE.withName("uniform")
    ).withName("qspec_draw");

    /** The layout of this struct (72 bytes). */
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

    private static final OfInt row$LAYOUT = (OfInt) $LAYOUT.select(groupElement("row"));
    private static final long row$OFFSET = 0;

    /** Getter for field {@code int32_t row}. */
    public static int row(MemorySegment struct) {
        return struct.get(row$LAYOUT, row$OFFSET);
    }

    /** Setter for field {@code int32_t row}. */
    public static void row(MemorySegment struct, int fieldValue) {
        struct.set(row$LAYOUT, row$OFFSET, fieldValue);
    }
    private static final OfInt top_k$LAYOUT = (OfInt) $LAYOUT.select(groupElement("top_k"));
    private static final long top_k$OFFSET = 4;

    /** Getter for field {@code int32_t top_k}. */
    public static int top_k(MemorySegment struct) {
        return struct.get(top_k$LAYOUT, top_k$OFFSET);
    }

    /** Setter for field {@code int32_t top_k}. */
    public static void top_k(MemorySegment struct, int fieldValue) {
        struct.set(top_k$LAYOUT, top_k$OFFSET, fieldValue);
    }
    private static final OfInt history_offset$LAYOUT = (OfInt) $LAYOUT.select(groupElement("history_offset"));
    private static final long history_offset$OFFSET = 8;

    /** Getter for field {@code int32_t history_offset}. */
    public static int history_offset(MemorySegment struct) {
        return struct.get(history_offset$LAYOUT, history_offset$OFFSET);
    }

    /** Setter for field {@code int32_t history_offset}. */
    public static void history_offset(MemorySegment struct, int fieldValue) {
        struct.set(history_offset$LAYOUT, history_offset$OFFSET, fieldValue);
    }
    private static final OfInt history_length$LAYOUT = (OfInt) $LAYOUT.select(groupElement("history_length"));
    private static final long history_length$OFFSET = 12;

    /** Getter for field {@code int32_t history_length}. */
    public static int history_length(MemorySegment struct) {
        return struct.get(history_length$LAYOUT, history_length$OFFSET);
    }

    /** Setter for field {@code int32_t history_length}. */
    public static void history_length(MemorySegment struct, int fieldValue) {
        struct.set(history_length$LAYOUT, history_length$OFFSET, fieldValue);
    }
    private static final OfDouble temperature$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("temperature"));
    private static final long temperature$OFFSET = 16;

    /** Getter for field {@code double temperature}. */
    public static double temperature(MemorySegment struct) {
        return struct.get(temperature$LAYOUT, temperature$OFFSET);
    }

    /** Setter for field {@code double temperature}. */
    public static void temperature(MemorySegment struct, double fieldValue) {
        struct.set(temperature$LAYOUT, temperature$OFFSET, fieldValue);
    }
    private static final OfDouble top_p$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("top_p"));
    private static final long top_p$OFFSET = 24;

    /** Getter for field {@code double top_p}. */
    public static double top_p(MemorySegment struct) {
        return struct.get(top_p$LAYOUT, top_p$OFFSET);
    }

    /** Setter for field {@code double top_p}. */
    public static void top_p(MemorySegment struct, double fieldValue) {
        struct.set(top_p$LAYOUT, top_p$OFFSET, fieldValue);
    }
    private static final OfDouble min_p$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("min_p"));
    private static final long min_p$OFFSET = 32;

    /** Getter for field {@code double min_p}. */
    public static double min_p(MemorySegment struct) {
        return struct.get(min_p$LAYOUT, min_p$OFFSET);
    }

    /** Setter for field {@code double min_p}. */
    public static void min_p(MemorySegment struct, double fieldValue) {
        struct.set(min_p$LAYOUT, min_p$OFFSET, fieldValue);
    }
    private static final OfDouble repetition_penalty$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("repetition_penalty"));
    private static final long repetition_penalty$OFFSET = 40;

    /** Getter for field {@code double repetition_penalty}. */
    public static double repetition_penalty(MemorySegment struct) {
        return struct.get(repetition_penalty$LAYOUT, repetition_penalty$OFFSET);
    }

    /** Setter for field {@code double repetition_penalty}. */
    public static void repetition_penalty(MemorySegment struct, double fieldValue) {
        struct.set(repetition_penalty$LAYOUT, repetition_penalty$OFFSET, fieldValue);
    }
    private static final OfDouble frequency_penalty$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("frequency_penalty"));
    private static final long frequency_penalty$OFFSET = 48;

    /** Getter for field {@code double frequency_penalty}. */
    public static double frequency_penalty(MemorySegment struct) {
        return struct.get(frequency_penalty$LAYOUT, frequency_penalty$OFFSET);
    }

    /** Setter for field {@code double frequency_penalty}. */
    public static void frequency_penalty(MemorySegment struct, double fieldValue) {
        struct.set(frequency_penalty$LAYOUT, frequency_penalty$OFFSET, fieldValue);
    }
    private static final OfDouble presence_penalty$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("presence_penalty"));
    private static final long presence_penalty$OFFSET = 56;

    /** Getter for field {@code double presence_penalty}. */
    public static double presence_penalty(MemorySegment struct) {
        return struct.get(presence_penalty$LAYOUT, presence_penalty$OFFSET);
    }

    /** Setter for field {@code double presence_penalty}. */
    public static void presence_penalty(MemorySegment struct, double fieldValue) {
        struct.set(presence_penalty$LAYOUT, presence_penalty$OFFSET, fieldValue);
    }
    private static final OfDouble uniform$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("uniform"));
    private static final long uniform$OFFSET = 64;

    /** Getter for field {@code double uniform}. */
    public static double uniform(MemorySegment struct) {
        return struct.get(uniform$LAYOUT, uniform$OFFSET);
    }

    /** Setter for field {@code double uniform}. */
    public static void uniform(MemorySegment struct, double fieldValue) {
        struct.set(uniform$LAYOUT, uniform$OFFSET, fieldValue);
    }
}
