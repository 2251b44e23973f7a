package io.qspec.cpu;

import static io.qspec.cpu.KernelVectors.BYTES;
import static io.qspec.cpu.KernelVectors.F;
import static io.qspec.cpu.KernelVectors.FLOATS;
import static io.qspec.cpu.KernelVectors.INTS;
import static io.qspec.cpu.KernelVectors.SHORTS;

import io.qspec.Precision;
import io.qspec.quant.Int4Matrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code y = x W^T} straight from the packed {@link Int4Matrix}, in the three QSpec precisions that
 * share its bytes. {@code x} holds {@code m} rows of {@code w.cols()} floats, {@code y} receives
 * {@code m} rows of {@code w.rows()}.
 * <ul>
 *   <li>{@link Precision#W4A16} (verify): nibbles are unpacked and converted to float in registers,
 *       FMA'd with float activations per group, and each group's sum is scaled into the row total.</li>
 *   <li>{@link Precision#W4A8} / {@link Precision#W4A4} (draft): each activation row is quantized per
 *       weight group by {@link ActivationQuantizer}; per group an exact integer dot product
 *       {@code dot = sum_k q[n][k] * a[r][k]}, then {@code y += (sw[n][g] * sa[r][g]) * (float) dot}
 *       in float, starting from {@code 0f}, groups in order. This is the whole documented operation
 *       order: how the integer dot is computed (lane layout, folds, the {@code -8} offset) cannot
 *       change its value, so results do not depend on the vector width either.</li>
 * </ul>
 *
 * <p><b>Row independence.</b> {@code y[r][n]} is bit-identical whether row {@code r} is computed
 * alone ({@code m = 1}) or inside a batch, and for any thread count: each value is computed by one
 * thread with an operation order fixed per (row, n). Speculative verify over a batch of draft tokens
 * therefore reproduces plain decoding exactly.
 *
 * <p><b>Layout trick.</b> A step reads {@code F} packed bytes: their low nibbles are the even inputs,
 * high nibbles the odd ones. Activations are therefore copied once per call into a thread-local
 * buffer where each block of {@code 2F} inputs is reordered to evens-then-odds (and padded with
 * zeros to the padded row length), so both nibble halves line up with contiguous activation vectors.
 * Batched calls reuse each unpacked weight step across four activation rows; W4A16 rows outside those
 * blocks of four take two weight rows at a time, for two independent FMA chains.
 *
 * <p><b>Draft block kernel.</b> When the group size is a multiple of {@code BLOCK = 8F} (group 128
 * with 512-bit vectors, 64 or 128 with 256-bit ones; per-channel rows of such a padded length), a
 * step loads {@code 4F} packed bytes as {@code 2F} 16-bit lanes, each holding four nibbles
 * {@code u = q + 8}; activations are reordered once per call so that the four nibble positions line
 * up with four contiguous short vectors, and {@code sum(u * a)} is formed with 16-bit multiplies and
 * adds (at most 4 products of {@code |u * a| <= 15 * 127} per lane, so exact). The group dot is then
 * {@code sum(u * a) - 8 * sum(a)}, {@code sum(a)} being computed once per activation group. One-step
 * groups are not reduced one by one: the lanes of four (group, row) pairs are folded together with
 * blends and lane permutes (in 16-bit lanes while at most 16 products are summed, then pairwise
 * widened to 32-bit lanes), so one fold yields four dots: two activation rows share each unpacked
 * step and fold two groups each; a single row folds four consecutive groups. Groups of
 * {@code BLOCK / 2} or {@code BLOCK / 4} inputs (group count a multiple of 4) already sit in the
 * halves / quarters of a step's lanes and need one fold or none. FP16 scales are read four (or two)
 * per memory access.
 *
 * <p>Weights in a confined arena are processed on the calling thread only; load models into a
 * shared, global or automatic arena to use all threads.
 */
public final class Int4MatMul {
    private static final ValueLayout.OfShort FP16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Four consecutive FP16 scales in one read (little-endian: group g in the low 16 bits). */
    private static final ValueLayout.OfLong FP16X4 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt FP16X2 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Steps a short lane can accumulate: 16 steps x 2 products x 8 x 127 = 32512 ≤ 32767. */
    private static final int SHORT_SAFE_STEPS = 16;
    /** Short lanes of the block kernel: as wide as a float step ({@code 2F} lanes, 512 bits at F = 16). */
    private static final VectorSpecies<Short> WIDE_SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(F * 32));
    private static final VectorSpecies<Integer> WIDE_INTS = VectorSpecies.of(int.class, VectorShape.forBitSize(F * 32));
    /** Inputs per block-kernel step: one wide short vector of packed bytes holds 4 nibbles per lane. */
    private static final int BLOCK = 8 * F;
    /** Lane folds over the {@code F} int lanes: masks of the odd halves / quarters, swaps of halves / quarter pairs. */
    private static final boolean[] ODD_HALF = laneMask(F / 2);
    private static final boolean[] ODD_QUARTERS = laneMask(F / 4);
    private static final int[] SWAP_HALVES = swapIndex(F / 2);
    private static final int[] SWAP_QUARTERS = swapIndex(F / 4);
    private static final int[] SWAP_1 = swapIndex(1);
    private static final int[] SWAP_2 = swapIndex(2);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final ParallelRows parallel;

    /** A kernel running on {@link ParallelRows#shared()}. */
    public Int4MatMul() {
        this(ParallelRows.shared());
    }

    public Int4MatMul(ParallelRows parallel) {
        this.parallel = parallel;
    }

    /**
     * Computes {@code m} rows of {@code y = W x} in precision {@code p} (one of the {@code W4*} schemes);
     * {@code y[r * w.rows() + n]} is overwritten.
     */
    public void multiply(Int4Matrix w, float[] x, int m, float[] y, Precision p) {
        KernelVectors.checkShapes(w.rows(), w.cols(), x, m, y);
        if (!p.usesInt4Weights()) {
            throw new IllegalArgumentException(p + " does not use INT4 weights; use DenseMatMul");
        }
        if (m == 0) {
            return;
        }
        Scratch s = SCRATCH.get();
        long workPerRow = (long) m * w.paddedCols();
        if (p == Precision.W4A16) {
            float[] xp = s.floats(m * w.paddedCols());
            for (int r = 0; r < m; r++) {
                interleaveFloats(x, r * w.cols(), w.cols(), w.paddedCols(), xp, r * w.paddedCols());
            }
            parallel.forSegment(w.packed()).forEach(w.rows(), workPerRow, (start, end) -> floatRows(w, xp, m, y, start, end));
        } else {
            short[] xq = s.shorts(m * w.paddedCols());
            float[] sa = s.scales(m * w.groupsPerRow());
            if (w.groupSize() % BLOCK == 0 || ((w.groupSize() == BLOCK / 2 || w.groupSize() == BLOCK / 4)
                    && w.groupsPerRow() % 4 == 0)) {
                int[] xsum = s.sums(m * w.groupsPerRow());
                for (int r = 0; r < m; r++) {
                    quantizeBlocked(x, r * w.cols(), w, p, xq, r * w.paddedCols(), sa, xsum, r * w.groupsPerRow());
                }
                parallel.forSegment(w.packed()).forEach(w.rows(), workPerRow,
                        (start, end) -> blockRows(w, xq, sa, xsum, m, y, start, end));
                return;
            }
            for (int r = 0; r < m; r++) {
                quantizeInterleaved(x, r * w.cols(), w, p, xq, r * w.paddedCols(), sa, r * w.groupsPerRow());
            }
            parallel.forSegment(w.packed()).forEach(w.rows(), workPerRow, (start, end) -> intRows(w, xq, sa, m, y, start, end));
        }
    }

    /** Lanes in odd segments of {@code seg} lanes. */
    private static boolean[] laneMask(int seg) {
        boolean[] mask = new boolean[F];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = (i / seg) % 2 == 1;
        }
        return mask;
    }

    /** Swaps neighbouring segments of {@code seg} lanes. */
    private static int[] swapIndex(int seg) {
        int[] idx = new int[F];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i ^ seg;
        }
        return idx;
    }

    /** Position of input {@code k} after reordering each block of {@code 2F} inputs to evens-then-odds. */
    private static int interleavedIndex(int k) {
        int within = k % (2 * F);
        return k - within + (within & 1) * F + (within >>> 1);
    }

    private static void interleaveFloats(float[] x, int xOff, int cols, int padded, float[] dst, int dOff) {
        for (int k = 0; k < padded; k++) {
            dst[dOff + interleavedIndex(k)] = k < cols ? x[xOff + k] : 0f;
        }
    }

    private static void quantizeInterleaved(float[] x, int xOff, Int4Matrix w, Precision p, short[] dst, int dOff,
                                            float[] scales, int sOff) {
        int cols = w.cols();
        int group = w.groupSize();
        for (int g = 0; g < w.groupsPerRow(); g++) {
            int from = g * group;
            int to = Math.min(cols, from + group);
            float scale = ActivationQuantizer.scale(ActivationQuantizer.absMax(x, xOff + from, xOff + to), p);
            scales[sOff + g] = scale;
            for (int k = from; k < from + group; k++) {
                dst[dOff + interleavedIndex(k)] = k < to ? (short) ActivationQuantizer.quantize(x[xOff + k], scale, p) : 0;
            }
        }
    }

    /**
     * Position of input {@code k} in the block kernel's activation order: within each block of
     * {@link #BLOCK} inputs, input {@code 4l + j} goes to {@code j * 2F + l}, matching nibble {@code j}
     * of short lane {@code l} of the packed bytes.
     */
    private static int blockedIndex(int k) {
        int within = k % BLOCK;
        return k - within + (within & 3) * (2 * F) + (within >>> 2);
    }

    private static void quantizeBlocked(float[] x, int xOff, Int4Matrix w, Precision p, short[] dst, int dOff,
                                        float[] scales, int[] sums, int sOff) {
        int cols = w.cols();
        int group = w.groupSize();
        for (int g = 0; g < w.groupsPerRow(); g++) {
            int from = g * group;
            int to = Math.min(cols, from + group);
            float scale = ActivationQuantizer.scale(ActivationQuantizer.absMax(x, xOff + from, xOff + to), p);
            scales[sOff + g] = scale;
            int sum = 0;
            for (int k = from; k < from + group; k++) {
                int q = k < to ? ActivationQuantizer.quantize(x[xOff + k], scale, p) : 0;
                dst[dOff + blockedIndex(k)] = (short) q;
                sum += q;
            }
            sums[sOff + g] = sum;
        }
    }

    // ---- W4A8 / W4A4, groups a multiple of BLOCK -------------------------------------------------
    // A step loads 4F packed bytes as 2F little-endian short lanes; lane l holds the unsigned nibbles
    // u = q + 8 of inputs 4l .. 4l+3, matched by the activation order of blockedIndex. The 4 products
    // u * a of a lane (|u * a| <= 15 * 127) are summed exactly in the short lane, widened pairwise to
    // int lanes and reduced exactly; the group's integer dot is sum(u * a) - 8 * sum(a), the latter
    // precomputed per activation group.

    private static void blockRows(Int4Matrix w, short[] xq, float[] sa, int[] xsum, int m, float[] y, int start,
                                  int end) {
        int[] dots = SCRATCH.get().dots;
        int rows = w.rows();
        int padded = w.paddedCols();
        int groups = w.groupsPerRow();
        if (w.groupSize() < BLOCK) {
            // groups of BLOCK / 2 or BLOCK / 4 (groups % 4 == 0, checked by the caller): row by row
            for (int r = 0; r < m; r++) {
                if (w.groupSize() == BLOCK / 2) {
                    blockRowHalves(w, start, end, xq, r * padded, sa, xsum, r * groups, y, r * rows);
                } else {
                    blockRowQuarters(w, start, end, xq, r * padded, sa, xsum, r * groups, y, r * rows);
                }
            }
            return;
        }
        if (w.groupSize() == BLOCK) {
            // one-step groups: pairs of rows with groups folded in pairs, then a last single row with
            // groups folded four at a time (measured faster than a four-row kernel: fewer live vectors)
            int m2 = m / 2 * 2;
            int pairs = groups / 2 * 2;
            for (int r = 0; r < m2; r += 2) {
                if (pairs > 0) {
                    blockRowPairs(w, start, end, xq, r, sa, xsum, pairs, y);
                }
                for (int n = start; n < end && pairs < groups; n++) {
                    for (int i = r; i < r + 2; i++) {
                        y[i * rows + n] = blockRowTail(w, n, xq, i * padded, sa, xsum, i * groups, pairs,
                                pairs == 0 ? 0f : y[i * rows + n]);
                    }
                }
            }
            int quads = groups / 4 * 4;
            for (int r = m2; r < m; r++) {
                if (quads > 0) {
                    blockRowQuads(w, start, end, xq, r * padded, sa, xsum, r * groups, quads, y, r * rows);
                }
                for (int n = start; n < end && quads < groups; n++) {
                    y[r * rows + n] = blockRowTail(w, n, xq, r * padded, sa, xsum, r * groups, quads,
                            quads == 0 ? 0f : y[r * rows + n]);
                }
            }
            return;
        }
        for (int n = start; n < end; n++) {
            int r = 0;
            for (; r + 2 <= m; r += 2) {
                blockRow2(w, n, xq, r * padded, padded, sa, xsum, r * groups, y, r * rows + n, rows, dots);
            }
            for (; r < m; r++) {
                y[r * rows + n] = blockRowTail(w, n, xq, r * padded, sa, xsum, r * groups, 0, 0f);
            }
        }
    }

    /**
     * One activation row (at {@code xOff}) against weight rows {@code [start, end)}, groups
     * {@code [0, quads)} (one step each) four at a time: the four steps' lanes are folded (blends,
     * permutes and adds, exact) into one vector whose quarter {@code j} sums to group {@code g + j}'s
     * {@code sum(u * a)}; {@code y[yOff + n]} receives the running sum. Written out in one method
     * (also the other fold kernels): C2 inlines the vector API's force-inline methods, but helpers
     * taking or returning vectors hit its node-count inlining cutoff and then box every vector.
     */
    private static void blockRowQuads(Int4Matrix w, int start, int end, short[] xq, int xOff, float[] sa, int[] xsum,
                                      int sOff, int quads, float[] y, int yOff) {
        MemorySegment packed = w.packed();
        MemorySegment scales = w.scales();
        VectorMask<Integer> half = VectorMask.fromArray(WIDE_INTS, ODD_HALF, 0);
        VectorMask<Integer> quarter = VectorMask.fromArray(WIDE_INTS, ODD_QUARTERS, 0);
        VectorShuffle<Integer> swapHalves = VectorShuffle.fromArray(WIDE_INTS, SWAP_HALVES, 0);
        VectorShuffle<Integer> swapQuarters = VectorShuffle.fromArray(WIDE_INTS, SWAP_QUARTERS, 0);
        VectorShuffle<Integer> swap1 = VectorShuffle.fromArray(WIDE_INTS, SWAP_1, 0);
        VectorShuffle<Integer> swap2 = VectorShuffle.fromArray(WIDE_INTS, SWAP_2, 0);
        for (int n = start; n < end; n++) {
        long at = (long) n * w.rowBytes();
        long scaleAt = (long) n * w.groupsPerRow() * 2;
        int xk = xOff;
        float s = 0f;
        for (int g = 0; g < quads; g += 4, at += 2 * BLOCK, xk += 4 * BLOCK) {
            ShortVector v0 = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at, ByteOrder.LITTLE_ENDIAN);
            ShortVector p0 = v0.and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk))
                    .add(v0.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 2 * F)))
                    .add(v0.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 4 * F)))
                    .add(v0.lanewise(VectorOperators.LSHR, 12).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 6 * F)));
            ShortVector v1 = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at + 1 * (BLOCK / 2), ByteOrder.LITTLE_ENDIAN);
            ShortVector p1 = v1.and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 1 * BLOCK)))
                    .add(v1.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 1 * BLOCK) + 2 * F)))
                    .add(v1.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 1 * BLOCK) + 4 * F)))
                    .add(v1.lanewise(VectorOperators.LSHR, 12).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 1 * BLOCK) + 6 * F)));
            ShortVector v2 = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at + 2 * (BLOCK / 2), ByteOrder.LITTLE_ENDIAN);
            ShortVector p2 = v2.and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 2 * BLOCK)))
                    .add(v2.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 2 * BLOCK) + 2 * F)))
                    .add(v2.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 2 * BLOCK) + 4 * F)))
                    .add(v2.lanewise(VectorOperators.LSHR, 12).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 2 * BLOCK) + 6 * F)));
            ShortVector v3 = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at + 3 * (BLOCK / 2), ByteOrder.LITTLE_ENDIAN);
            ShortVector p3 = v3.and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 3 * BLOCK)))
                    .add(v3.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 3 * BLOCK) + 2 * F)))
                    .add(v3.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 3 * BLOCK) + 4 * F)))
                    .add(v3.lanewise(VectorOperators.LSHR, 12).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + 3 * BLOCK) + 6 * F)));
            // fold p0..p3 (short lanes, |lane| <= 4 * 15 * 127): halves then quarters, still in shorts
            // (|lane| <= 16 * 1905 < 2^15), then widened pairwise; quarters hold p0, p2, p1, p3
            IntVector i0 = p0.reinterpretAsInts();
            IntVector i1 = p1.reinterpretAsInts();
            IntVector i2 = p2.reinterpretAsInts();
            IntVector i3 = p3.reinterpretAsInts();
            IntVector ab = i0.blend(i1, half).reinterpretAsShorts()
                    .add(i1.blend(i0, half).rearrange(swapHalves).reinterpretAsShorts()).reinterpretAsInts();
            IntVector cd = i2.blend(i3, half).reinterpretAsShorts()
                    .add(i3.blend(i2, half).rearrange(swapHalves).reinterpretAsShorts()).reinterpretAsInts();
            IntVector qs = ab.blend(cd, quarter).reinterpretAsShorts()
                    .add(cd.blend(ab, quarter).rearrange(swapQuarters).reinterpretAsShorts()).reinterpretAsInts();
            IntVector q = qs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(qs.lanewise(VectorOperators.ASHR, 16));
            if (F == 16) {
                q = q.add(q.rearrange(swap2));
            }
            q = q.add(q.rearrange(swap1));
            int e0 = q.lane(0);
            int e2 = q.lane(F / 4);
            int e1 = q.lane(F / 2);
            int e3 = q.lane(3 * F / 4);
            long sw = scales.get(FP16X4, scaleAt + 2L * g);
            s += (Float.float16ToFloat((short) sw) * sa[sOff + g]) * (e0 - 8 * xsum[sOff + g]);
            s += (Float.float16ToFloat((short) (sw >>> 16)) * sa[sOff + g + 1]) * (e1 - 8 * xsum[sOff + g + 1]);
            s += (Float.float16ToFloat((short) (sw >>> 32)) * sa[sOff + g + 2]) * (e2 - 8 * xsum[sOff + g + 2]);
            s += (Float.float16ToFloat((short) (sw >>> 48)) * sa[sOff + g + 3]) * (e3 - 8 * xsum[sOff + g + 3]);
        }
        y[yOff + n] = s;
        }
    }

    /**
     * One activation row against weight rows {@code [start, end)} for groups of {@code BLOCK / 2}
     * inputs (a step covers two groups, one per half of its lanes), groups four at a time: the two
     * steps' lanes are folded once; {@code y[yOff + n]} receives the row sum. Needs a group count
     * divisible by 4.
     */
    private static void blockRowHalves(Int4Matrix w, int start, int end, short[] xq, int xOff, float[] sa, int[] xsum,
                                      int sOff, float[] y, int yOff) {
        MemorySegment packed = w.packed();
        MemorySegment scales = w.scales();
        int groups = w.groupsPerRow();
        VectorMask<Integer> quarter = VectorMask.fromArray(WIDE_INTS, ODD_QUARTERS, 0);
        VectorShuffle<Integer> swapQuarters = VectorShuffle.fromArray(WIDE_INTS, SWAP_QUARTERS, 0);
        VectorShuffle<Integer> swap1 = VectorShuffle.fromArray(WIDE_INTS, SWAP_1, 0);
        VectorShuffle<Integer> swap2 = VectorShuffle.fromArray(WIDE_INTS, SWAP_2, 0);
        for (int n = start; n < end; n++) {
            long at = (long) n * w.rowBytes();
            long scaleAt = (long) n * groups * 2;
            int xk = xOff;
            float s = 0f;
            for (int g = 0; g < groups; g += 4, at += BLOCK, xk += 2 * BLOCK) {
            ShortVector v0 = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at, ByteOrder.LITTLE_ENDIAN);
            ShortVector p0 = v0.and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk))
                    .add(v0.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 2 * F)))
                    .add(v0.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 4 * F)))
                    .add(v0.lanewise(VectorOperators.LSHR, 12).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 6 * F)));
            ShortVector v1 = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at + BLOCK / 2, ByteOrder.LITTLE_ENDIAN);
            ShortVector p1 = v1.and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + BLOCK)))
                    .add(v1.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + BLOCK) + 2 * F)))
                    .add(v1.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + BLOCK) + 4 * F)))
                    .add(v1.lanewise(VectorOperators.LSHR, 12).mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + BLOCK) + 6 * F)));
            // each step's halves are two groups: quarters of the fold hold groups g, g + 2, g + 1, g + 3
            IntVector ab = p0.reinterpretAsInts();
            IntVector cd = p1.reinterpretAsInts();
            IntVector qs = ab.blend(cd, quarter).reinterpretAsShorts()
                    .add(cd.blend(ab, quarter).rearrange(swapQuarters).reinterpretAsShorts()).reinterpretAsInts();
            IntVector q = qs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(qs.lanewise(VectorOperators.ASHR, 16));
            if (F == 16) {
                q = q.add(q.rearrange(swap2));
            }
            q = q.add(q.rearrange(swap1));
            int e0 = q.lane(0);
            int e1 = q.lane(F / 2);
            int e2 = q.lane(F / 4);
            int e3 = q.lane(3 * F / 4);
            long sw = scales.get(FP16X4, scaleAt + 2L * g);
            s += (Float.float16ToFloat((short) sw) * sa[sOff + g]) * (e0 - 8 * xsum[sOff + g]);
            s += (Float.float16ToFloat((short) (sw >>> 16)) * sa[sOff + g + 1]) * (e1 - 8 * xsum[sOff + g + 1]);
            s += (Float.float16ToFloat((short) (sw >>> 32)) * sa[sOff + g + 2]) * (e2 - 8 * xsum[sOff + g + 2]);
            s += (Float.float16ToFloat((short) (sw >>> 48)) * sa[sOff + g + 3]) * (e3 - 8 * xsum[sOff + g + 3]);
            }
            y[yOff + n] = s;
        }
    }

    /**
     * One activation row against weight rows {@code [start, end)} for groups of {@code BLOCK / 4}
     * inputs (a step covers four groups, one per quarter of its lanes); {@code y[yOff + n]} receives
     * the row sum. Needs a group count divisible by 4.
     */
    private static void blockRowQuarters(Int4Matrix w, int start, int end, short[] xq, int xOff, float[] sa, int[] xsum,
                                      int sOff, float[] y, int yOff) {
        MemorySegment packed = w.packed();
        MemorySegment scales = w.scales();
        int groups = w.groupsPerRow();
        VectorMask<Integer> quarter = VectorMask.fromArray(WIDE_INTS, ODD_QUARTERS, 0);
        VectorShuffle<Integer> swapQuarters = VectorShuffle.fromArray(WIDE_INTS, SWAP_QUARTERS, 0);
        VectorShuffle<Integer> swap1 = VectorShuffle.fromArray(WIDE_INTS, SWAP_1, 0);
        VectorShuffle<Integer> swap2 = VectorShuffle.fromArray(WIDE_INTS, SWAP_2, 0);
        for (int n = start; n < end; n++) {
            long at = (long) n * w.rowBytes();
            long scaleAt = (long) n * groups * 2;
            int xk = xOff;
            float s = 0f;
            for (int g = 0; g < groups; g += 4, at += BLOCK / 2, xk += BLOCK) {
            ShortVector v0 = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at, ByteOrder.LITTLE_ENDIAN);
            ShortVector p0 = v0.and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk))
                    .add(v0.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 2 * F)))
                    .add(v0.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 4 * F)))
                    .add(v0.lanewise(VectorOperators.LSHR, 12).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 6 * F)));
            // the step's quarters are groups g .. g + 3
            IntVector qs = p0.reinterpretAsInts();
            IntVector q = qs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(qs.lanewise(VectorOperators.ASHR, 16));
            if (F == 16) {
                q = q.add(q.rearrange(swap2));
            }
            q = q.add(q.rearrange(swap1));
            int e0 = q.lane(0);
            int e1 = q.lane(F / 4);
            int e2 = q.lane(F / 2);
            int e3 = q.lane(3 * F / 4);
            long sw = scales.get(FP16X4, scaleAt + 2L * g);
            s += (Float.float16ToFloat((short) sw) * sa[sOff + g]) * (e0 - 8 * xsum[sOff + g]);
            s += (Float.float16ToFloat((short) (sw >>> 16)) * sa[sOff + g + 1]) * (e1 - 8 * xsum[sOff + g + 1]);
            s += (Float.float16ToFloat((short) (sw >>> 32)) * sa[sOff + g + 2]) * (e2 - 8 * xsum[sOff + g + 2]);
            s += (Float.float16ToFloat((short) (sw >>> 48)) * sa[sOff + g + 3]) * (e3 - 8 * xsum[sOff + g + 3]);
            }
            y[yOff + n] = s;
        }
    }

    /**
     * Two activation rows ({@code r}, {@code r + 1}) against weight rows {@code [start, end)},
     * one-step groups in pairs: each step is unpacked once for both rows, and the four lane sets
     * (row x group) are folded together. Per row exactly the operations of the single-row kernel;
     * groups {@code [pairs, groups)} are left to {@link #blockRowTail}.
     */
    private static void blockRowPairs(Int4Matrix w, int start, int end, short[] xq, int r, float[] sa, int[] xsum,
                                      int pairs, float[] y) {
        MemorySegment packed = w.packed();
        MemorySegment scales = w.scales();
        int groups = w.groupsPerRow();
        int padded = w.paddedCols();
        int rows = w.rows();
        int sOff = r * groups;
        VectorMask<Integer> half = VectorMask.fromArray(WIDE_INTS, ODD_HALF, 0);
        VectorMask<Integer> quarter = VectorMask.fromArray(WIDE_INTS, ODD_QUARTERS, 0);
        VectorShuffle<Integer> swapHalves = VectorShuffle.fromArray(WIDE_INTS, SWAP_HALVES, 0);
        VectorShuffle<Integer> swapQuarters = VectorShuffle.fromArray(WIDE_INTS, SWAP_QUARTERS, 0);
        VectorShuffle<Integer> swap1 = VectorShuffle.fromArray(WIDE_INTS, SWAP_1, 0);
        VectorShuffle<Integer> swap2 = VectorShuffle.fromArray(WIDE_INTS, SWAP_2, 0);
        for (int n = start; n < end; n++) {
            long at = (long) n * w.rowBytes();
            long scaleAt = (long) n * groups * 2;
            int xk = r * padded;
            float s0 = 0f;
            float s1 = 0f;
            for (int g = 0; g < pairs; g += 2, at += BLOCK, xk += 2 * BLOCK) {
                ShortVector a = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at, ByteOrder.LITTLE_ENDIAN);
                ShortVector a0 = a.and((short) 0x0F);
                ShortVector a1 = a.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F);
                ShortVector a2 = a.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F);
                ShortVector a3 = a.lanewise(VectorOperators.LSHR, 12);
                ShortVector b = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at + BLOCK / 2, ByteOrder.LITTLE_ENDIAN);
                ShortVector b0 = b.and((short) 0x0F);
                ShortVector b1 = b.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F);
                ShortVector b2 = b.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F);
                ShortVector b3 = b.lanewise(VectorOperators.LSHR, 12);
                ShortVector p0 = a0.mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk))
                        .add(a1.mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 2 * F)))
                        .add(a2.mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 4 * F)))
                        .add(a3.mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 6 * F)));
                ShortVector p1 = b0.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + BLOCK)))
                        .add(b1.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + BLOCK) + 2 * F)))
                        .add(b2.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + BLOCK) + 4 * F)))
                        .add(b3.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + BLOCK) + 6 * F)));
                ShortVector p2 = a0.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + padded)))
                        .add(a1.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + padded) + 2 * F)))
                        .add(a2.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + padded) + 4 * F)))
                        .add(a3.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + padded) + 6 * F)));
                ShortVector p3 = b0.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + padded + BLOCK)))
                        .add(b1.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + padded + BLOCK) + 2 * F)))
                        .add(b2.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + padded + BLOCK) + 4 * F)))
                        .add(b3.mul(ShortVector.fromArray(WIDE_SHORTS, xq, (xk + padded + BLOCK) + 6 * F)));
                // fold p0..p3 (short lanes, |lane| <= 4 * 15 * 127): halves then quarters, still in shorts
                // (|lane| <= 16 * 1905 < 2^15), then widened pairwise; quarters hold p0, p2, p1, p3
                IntVector i0 = p0.reinterpretAsInts();
                IntVector i1 = p1.reinterpretAsInts();
                IntVector i2 = p2.reinterpretAsInts();
                IntVector i3 = p3.reinterpretAsInts();
                IntVector ab = i0.blend(i1, half).reinterpretAsShorts()
                        .add(i1.blend(i0, half).rearrange(swapHalves).reinterpretAsShorts()).reinterpretAsInts();
                IntVector cd = i2.blend(i3, half).reinterpretAsShorts()
                        .add(i3.blend(i2, half).rearrange(swapHalves).reinterpretAsShorts()).reinterpretAsInts();
                IntVector qs = ab.blend(cd, quarter).reinterpretAsShorts()
                        .add(cd.blend(ab, quarter).rearrange(swapQuarters).reinterpretAsShorts()).reinterpretAsInts();
                IntVector q = qs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(qs.lanewise(VectorOperators.ASHR, 16));
                if (F == 16) {
                    q = q.add(q.rearrange(swap2));
                }
                q = q.add(q.rearrange(swap1));
                int e0 = q.lane(0);
                int e2 = q.lane(F / 4);
                int e1 = q.lane(F / 2);
                int e3 = q.lane(3 * F / 4);
                int sw = scales.get(FP16X2, scaleAt + 2L * g);
                float sw0 = Float.float16ToFloat((short) sw);
                float sw1 = Float.float16ToFloat((short) (sw >>> 16));
                s0 += (sw0 * sa[sOff + g]) * (e0 - 8 * xsum[sOff + g]);
                s0 += (sw1 * sa[sOff + g + 1]) * (e1 - 8 * xsum[sOff + g + 1]);
                s1 += (sw0 * sa[sOff + groups + g]) * (e2 - 8 * xsum[sOff + groups + g]);
                s1 += (sw1 * sa[sOff + groups + g + 1]) * (e3 - 8 * xsum[sOff + groups + g + 1]);
            }
            y[r * rows + n] = s0;
            y[(r + 1) * rows + n] = s1;
        }
    }

    /**
     * One output: per group the exact {@code dot = sum(u * a) - 8 * sum(a)}, then
     * {@code s += (sw * sa) * dot}, groups in order. Each step's short products are widened at once,
     * so no short lane ever holds more than 4 products.
     */

    /** Groups {@code [from, groups)} of a row, one at a time, continuing the running sum {@code s}. */
    private static float blockRowTail(Int4Matrix w, int n, short[] xq, int xOff, float[] sa, int[] xsum, int sOff,
                                      int from, float s) {
        MemorySegment packed = w.packed();
        MemorySegment scales = w.scales();
        int groups = w.groupsPerRow();
        int steps = w.groupSize() / BLOCK;
        long at = (long) n * w.rowBytes() + (long) from * (w.groupSize() / 2);
        long scaleAt = (long) n * groups * 2;
        int xk = xOff + from * w.groupSize();
        for (int g = from; g < groups; g++) {
            IntVector acc = IntVector.zero(WIDE_INTS);
            for (int st = 0; st < steps; st++, at += BLOCK / 2, xk += BLOCK) {
                ShortVector v = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at, ByteOrder.LITTLE_ENDIAN);
                ShortVector p = v.and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk))
                        .add(v.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 2 * F)))
                        .add(v.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 4 * F)))
                        .add(v.lanewise(VectorOperators.LSHR, 12).mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 6 * F)));
                IntVector pi = p.reinterpretAsInts();
                acc = acc.add(pi.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(pi.lanewise(VectorOperators.ASHR, 16));
            }
            int dot = acc.reduceLanes(VectorOperators.ADD) - 8 * xsum[sOff + g];
            s += (scale(scales, scaleAt, g) * sa[sOff + g]) * dot;
        }
        return s;
    }

    /** {@link #blockRowQuads} for two activation rows {@code padded} apart, unpacking each step once. */
    private static void blockRow2(Int4Matrix w, int n, short[] xq, int xOff, int padded, float[] sa, int[] xsum,
                                  int sOff, float[] y, int yAt, int yStride, int[] dots) {
        MemorySegment packed = w.packed();
        MemorySegment scales = w.scales();
        int groups = w.groupsPerRow();
        int steps = w.groupSize() / BLOCK;
        long at = (long) n * w.rowBytes();
        long scaleAt = (long) n * groups * 2;
        int xk = xOff;
        float s0 = 0f;
        float s1 = 0f;
        for (int g = 0; g < groups; g++) {
            IntVector a0 = IntVector.zero(WIDE_INTS);
            IntVector a1 = a0;
            for (int st = 0; st < steps; st++, at += BLOCK / 2, xk += BLOCK) {
                ShortVector v = ShortVector.fromMemorySegment(WIDE_SHORTS, packed, at, ByteOrder.LITTLE_ENDIAN);
                ShortVector u0 = v.and((short) 0x0F);
                ShortVector u1 = v.lanewise(VectorOperators.LSHR, 4).and((short) 0x0F);
                ShortVector u2 = v.lanewise(VectorOperators.LSHR, 8).and((short) 0x0F);
                ShortVector u3 = v.lanewise(VectorOperators.LSHR, 12);
                ShortVector p0 = u0.mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk))
                        .add(u1.mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 2 * F)))
                        .add(u2.mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 4 * F)))
                        .add(u3.mul(ShortVector.fromArray(WIDE_SHORTS, xq, xk + 6 * F)));
                int x1 = xk + padded;
                ShortVector p1 = u0.mul(ShortVector.fromArray(WIDE_SHORTS, xq, x1))
                        .add(u1.mul(ShortVector.fromArray(WIDE_SHORTS, xq, x1 + 2 * F)))
                        .add(u2.mul(ShortVector.fromArray(WIDE_SHORTS, xq, x1 + 4 * F)))
                        .add(u3.mul(ShortVector.fromArray(WIDE_SHORTS, xq, x1 + 6 * F)));
                IntVector q0 = p0.reinterpretAsInts();
                IntVector q1 = p1.reinterpretAsInts();
                a0 = a0.add(q0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(q0.lanewise(VectorOperators.ASHR, 16));
                a1 = a1.add(q1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                        .add(q1.lanewise(VectorOperators.ASHR, 16));
            }
            int d0 = a0.reduceLanes(VectorOperators.ADD) - 8 * xsum[sOff + g];
            int d1 = a1.reduceLanes(VectorOperators.ADD) - 8 * xsum[sOff + groups + g];
            float sw = scale(scales, scaleAt, g);
            s0 += (sw * sa[sOff + g]) * d0;
            s1 += (sw * sa[sOff + groups + g]) * d1;
        }
        y[yAt] = s0;
        y[yAt + yStride] = s1;
    }

    // ---- W4A16 -------------------------------------------------------------------------------

    private static void floatRows(Int4Matrix w, float[] xp, int m, float[] y, int start, int end) {
        float[] lanes = SCRATCH.get().lanes;
        int rows = w.rows();
        int padded = w.paddedCols();
        int batched = m - m % 4;
        for (int n = start; n < end; n++) {
            for (int r = 0; r < batched; r += 4) {
                floatDot4(w, n, xp, r * padded, y, r * rows + n, rows, lanes);
            }
        }
        // Rows outside the blocks of four: two weight rows at a time, so two independent FMA chains hide
        // each other's latency (one chain per call was latency-bound); each (row, n) keeps its own order.
        for (int r = batched; r < m; r++) {
            int n = start;
            for (; n + 2 <= end; n += 2) {
                floatDotPair(w, n, xp, r * padded, y, r * rows + n, lanes);
            }
            if (n < end) {
                y[r * rows + n] = floatDot(w, n, xp, r * padded, lanes);
            }
        }
    }

    // Nibbles are split after widening: x86 has no byte shift, so a byte-lane LSHR costs several instructions.

    /** Each packed byte zero-extended to an int lane (sign extension would smear the high nibble's top bit). */
    private static IntVector widenBytes(ByteVector b) {
        return (IntVector) b.convertShape(VectorOperators.ZERO_EXTEND_B2I, INTS, 0);
    }

    /** The even inputs' codes {@code q = low nibble - 8} as floats. */
    private static FloatVector lowNibbles(IntVector bytes) {
        return (FloatVector) bytes.and(0x0F).sub(8).convertShape(VectorOperators.I2F, FLOATS, 0);
    }

    /** The odd inputs' codes {@code q = high nibble - 8} as floats. */
    private static FloatVector highNibbles(IntVector bytes) {
        return (FloatVector) bytes.lanewise(VectorOperators.LSHR, 4).sub(8).convertShape(VectorOperators.I2F, FLOATS, 0);
    }

    private static float scale(MemorySegment scales, long scaleAt, int g) {
        return Float.float16ToFloat(scales.get(FP16, scaleAt + 2L * g));
    }

    private static float floatDot(Int4Matrix w, int n, float[] xp, int xOff, float[] lanes) {
        MemorySegment packed = w.packed();
        MemorySegment scales = w.scales();
        int groupBytes = w.groupSize() / 2;
        long at = (long) n * w.rowBytes();
        long scaleAt = (long) n * w.groupsPerRow() * 2;
        int xk = xOff;
        FloatVector total = FloatVector.zero(FLOATS);
        for (int g = 0; g < w.groupsPerRow(); g++) {
            FloatVector acc = FloatVector.zero(FLOATS);
            for (int j = 0; j < groupBytes; j += F, at += F, xk += 2 * F) {
                IntVector b = widenBytes(ByteVector.fromMemorySegment(BYTES, packed, at, ByteOrder.LITTLE_ENDIAN));
                acc = lowNibbles(b).fma(FloatVector.fromArray(FLOATS, xp, xk), acc);
                acc = highNibbles(b).fma(FloatVector.fromArray(FLOATS, xp, xk + F), acc);
            }
            total = acc.fma(FloatVector.broadcast(FLOATS, scale(scales, scaleAt, g)), total);
        }
        return KernelVectors.sumLanes(total, lanes);
    }

    /** Weight rows {@code n} and {@code n + 1} against one activation row; per row exactly the operations of {@link #floatDot}. */
    private static void floatDotPair(Int4Matrix w, int n, float[] xp, int xOff, float[] y, int yAt, float[] lanes) {
        MemorySegment packed = w.packed();
        MemorySegment scales = w.scales();
        int groupBytes = w.groupSize() / 2;
        long rowBytes = w.rowBytes();
        long at = (long) n * rowBytes;
        long scaleAt = (long) n * w.groupsPerRow() * 2;
        long nextScales = 2L * w.groupsPerRow();
        int xk = xOff;
        FloatVector t0 = FloatVector.zero(FLOATS);
        FloatVector t1 = t0;
        for (int g = 0; g < w.groupsPerRow(); g++) {
            FloatVector a0 = FloatVector.zero(FLOATS);
            FloatVector a1 = a0;
            for (int j = 0; j < groupBytes; j += F, at += F, xk += 2 * F) {
                FloatVector even = FloatVector.fromArray(FLOATS, xp, xk);
                FloatVector odd = FloatVector.fromArray(FLOATS, xp, xk + F);
                IntVector b0 = widenBytes(ByteVector.fromMemorySegment(BYTES, packed, at, ByteOrder.LITTLE_ENDIAN));
                IntVector b1 = widenBytes(ByteVector.fromMemorySegment(BYTES, packed, at + rowBytes, ByteOrder.LITTLE_ENDIAN));
                a0 = lowNibbles(b0).fma(even, a0);
                a1 = lowNibbles(b1).fma(even, a1);
                a0 = highNibbles(b0).fma(odd, a0);
                a1 = highNibbles(b1).fma(odd, a1);
            }
            t0 = a0.fma(FloatVector.broadcast(FLOATS, scale(scales, scaleAt, g)), t0);
            t1 = a1.fma(FloatVector.broadcast(FLOATS, scale(scales, scaleAt + nextScales, g)), t1);
        }
        y[yAt] = KernelVectors.sumLanes(t0, lanes);
        y[yAt + 1] = KernelVectors.sumLanes(t1, lanes);
    }

    /** Four activation rows against weight row {@code n}; per row exactly the operations of {@link #floatDot}. */
    private static void floatDot4(Int4Matrix w, int n, float[] xp, int xOff, float[] y, int yAt, int yStride,
                                  float[] lanes) {
        MemorySegment packed = w.packed();
        MemorySegment scales = w.scales();
        int groupBytes = w.groupSize() / 2;
        int padded = w.paddedCols();
        long at = (long) n * w.rowBytes();
        long scaleAt = (long) n * w.groupsPerRow() * 2;
        int xk = xOff;
        FloatVector t0 = FloatVector.zero(FLOATS);
        FloatVector t1 = t0;
        FloatVector t2 = t0;
        FloatVector t3 = t0;
        for (int g = 0; g < w.groupsPerRow(); g++) {
            FloatVector a0 = FloatVector.zero(FLOATS);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int j = 0; j < groupBytes; j += F, at += F, xk += 2 * F) {
                IntVector b = widenBytes(ByteVector.fromMemorySegment(BYTES, packed, at, ByteOrder.LITTLE_ENDIAN));
                FloatVector lo = lowNibbles(b);
                FloatVector hi = highNibbles(b);
                a0 = lo.fma(FloatVector.fromArray(FLOATS, xp, xk), a0);
                a0 = hi.fma(FloatVector.fromArray(FLOATS, xp, xk + F), a0);
                a1 = lo.fma(FloatVector.fromArray(FLOATS, xp, xk + padded), a1);
                a1 = hi.fma(FloatVector.fromArray(FLOATS, xp, xk + padded + F), a1);
                a2 = lo.fma(FloatVector.fromArray(FLOATS, xp, xk + 2 * padded), a2);
                a2 = hi.fma(FloatVector.fromArray(FLOATS, xp, xk + 2 * padded + F), a2);
                a3 = lo.fma(FloatVector.fromArray(FLOATS, xp, xk + 3 * padded), a3);
                a3 = hi.fma(FloatVector.fromArray(FLOATS, xp, xk + 3 * padded + F), a3);
            }
            FloatVector s = FloatVector.broadcast(FLOATS, scale(scales, scaleAt, g));
            t0 = a0.fma(s, t0);
            t1 = a1.fma(s, t1);
            t2 = a2.fma(s, t2);
            t3 = a3.fma(s, t3);
        }
        y[yAt] = KernelVectors.sumLanes(t0, lanes);
        y[yAt + yStride] = KernelVectors.sumLanes(t1, lanes);
        y[yAt + 2 * yStride] = KernelVectors.sumLanes(t2, lanes);
        y[yAt + 3 * yStride] = KernelVectors.sumLanes(t3, lanes);
    }

    // ---- W4A8 / W4A4 -------------------------------------------------------------------------

    private static void intRows(Int4Matrix w, short[] xq, float[] sa, int m, float[] y, int start, int end) {
        int[] dots = SCRATCH.get().dots;
        int rows = w.rows();
        int padded = w.paddedCols();
        int groups = w.groupsPerRow();
        MemorySegment scales = w.scales();
        for (int n = start; n < end; n++) {
            long scaleAt = (long) n * groups * 2;
            int r = 0;
            for (; r + 4 <= m; r += 4) {
                float s0 = 0f;
                float s1 = 0f;
                float s2 = 0f;
                float s3 = 0f;
                for (int g = 0; g < groups; g++) {
                    intDot4(w, n, g, xq, r * padded, dots);
                    float sw = scale(scales, scaleAt, g);
                    s0 += (sw * sa[r * groups + g]) * dots[0];
                    s1 += (sw * sa[(r + 1) * groups + g]) * dots[1];
                    s2 += (sw * sa[(r + 2) * groups + g]) * dots[2];
                    s3 += (sw * sa[(r + 3) * groups + g]) * dots[3];
                }
                y[r * rows + n] = s0;
                y[(r + 1) * rows + n] = s1;
                y[(r + 2) * rows + n] = s2;
                y[(r + 3) * rows + n] = s3;
            }
            for (; r < m; r++) {
                float s = 0f;
                for (int g = 0; g < groups; g++) {
                    s += (scale(scales, scaleAt, g) * sa[r * groups + g]) * intDot(w, n, g, xq, r * padded);
                }
                y[r * rows + n] = s;
            }
        }
    }

    /** Each packed byte zero-extended to a short lane. */
    private static ShortVector widenBytesToShorts(ByteVector b) {
        return (ShortVector) b.convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
    }

    /** The even inputs' codes {@code q = low nibble - 8}. */
    private static ShortVector lowCodes(ShortVector bytes) {
        return bytes.and((short) 0x0F).sub((short) 8);
    }

    /** The odd inputs' codes {@code q = high nibble - 8}. */
    private static ShortVector highCodes(ShortVector bytes) {
        return bytes.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
    }

    private static IntVector widen(ShortVector v) {
        return (IntVector) v.convertShape(VectorOperators.S2I, INTS, 0);
    }

    /** Exact integer dot product of weight group {@code g} of row {@code n} with one quantized activation row. */
    private static int intDot(Int4Matrix w, int n, int g, short[] xq, int xOff) {
        MemorySegment packed = w.packed();
        int groupBytes = w.groupSize() / 2;
        long at = (long) n * w.rowBytes() + (long) g * groupBytes;
        int xk = xOff + g * w.groupSize();
        IntVector acc = IntVector.zero(INTS);
        // products are summed in short lanes for up to SHORT_SAFE_STEPS steps, then widened
        for (int j0 = 0; j0 < groupBytes; j0 += SHORT_SAFE_STEPS * F) {
            int j1 = Math.min(groupBytes, j0 + SHORT_SAFE_STEPS * F);
            ShortVector s = ShortVector.zero(SHORTS);
            for (int j = j0; j < j1; j += F) {
                ShortVector b = widenBytesToShorts(ByteVector.fromMemorySegment(BYTES, packed, at + j, ByteOrder.LITTLE_ENDIAN));
                int xj = xk + 2 * j;
                s = s.add(lowCodes(b).mul(ShortVector.fromArray(SHORTS, xq, xj)))
                        .add(highCodes(b).mul(ShortVector.fromArray(SHORTS, xq, xj + F)));
            }
            acc = acc.add(widen(s));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #intDot} for four consecutive activation rows, unpacking each weight step once. */
    private static void intDot4(Int4Matrix w, int n, int g, short[] xq, int xOff, int[] dots) {
        MemorySegment packed = w.packed();
        int groupBytes = w.groupSize() / 2;
        int padded = w.paddedCols();
        long at = (long) n * w.rowBytes() + (long) g * groupBytes;
        int xk = xOff + g * w.groupSize();
        IntVector c0 = IntVector.zero(INTS);
        IntVector c1 = c0;
        IntVector c2 = c0;
        IntVector c3 = c0;
        for (int j0 = 0; j0 < groupBytes; j0 += SHORT_SAFE_STEPS * F) {
            int j1 = Math.min(groupBytes, j0 + SHORT_SAFE_STEPS * F);
            ShortVector s0 = ShortVector.zero(SHORTS);
            ShortVector s1 = s0;
            ShortVector s2 = s0;
            ShortVector s3 = s0;
            for (int j = j0; j < j1; j += F) {
                ShortVector b = widenBytesToShorts(ByteVector.fromMemorySegment(BYTES, packed, at + j, ByteOrder.LITTLE_ENDIAN));
                ShortVector lo = lowCodes(b);
                ShortVector hi = highCodes(b);
                int xj = xk + 2 * j;
                s0 = s0.add(lo.mul(ShortVector.fromArray(SHORTS, xq, xj)))
                        .add(hi.mul(ShortVector.fromArray(SHORTS, xq, xj + F)));
                s1 = s1.add(lo.mul(ShortVector.fromArray(SHORTS, xq, xj + padded)))
                        .add(hi.mul(ShortVector.fromArray(SHORTS, xq, xj + padded + F)));
                s2 = s2.add(lo.mul(ShortVector.fromArray(SHORTS, xq, xj + 2 * padded)))
                        .add(hi.mul(ShortVector.fromArray(SHORTS, xq, xj + 2 * padded + F)));
                s3 = s3.add(lo.mul(ShortVector.fromArray(SHORTS, xq, xj + 3 * padded)))
                        .add(hi.mul(ShortVector.fromArray(SHORTS, xq, xj + 3 * padded + F)));
            }
            c0 = c0.add(widen(s0));
            c1 = c1.add(widen(s1));
            c2 = c2.add(widen(s2));
            c3 = c3.add(widen(s3));
        }
        dots[0] = c0.reduceLanes(VectorOperators.ADD);
        dots[1] = c1.reduceLanes(VectorOperators.ADD);
        dots[2] = c2.reduceLanes(VectorOperators.ADD);
        dots[3] = c3.reduceLanes(VectorOperators.ADD);
    }

    /** Per-thread buffers, grown on demand and reused: no allocation per call once warm. */
    private static final class Scratch {
        final float[] lanes = new float[F];
        final int[] dots = new int[4];
        private float[] floats = new float[0];
        private short[] shorts = new short[0];
        private float[] scales = new float[0];

        float[] floats(int size) {
            if (floats.length < size) {
                floats = new float[size];
            }
            return floats;
        }

        short[] shorts(int size) {
            if (shorts.length < size) {
                shorts = new short[size];
            }
            return shorts;
        }

        private int[] sums = new int[0];

        int[] sums(int size) {
            if (sums.length < size) {
                sums = new int[size];
            }
            return sums;
        }

        float[] scales(int size) {
            if (scales.length < size) {
                scales = new float[size];
            }
            return scales;
        }
    }
}
