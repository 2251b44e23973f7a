package io.qspec.examples.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures the machine's memory read bandwidth the way a GEMV sees it: all cores streaming
 * through a buffer much larger than the caches with vector loads. The CPU roofline for decode.
 */
final class MemoryBandwidth {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Keeps the sums observable so the JIT cannot drop the loads. */
    static volatile float blackhole;

    private MemoryBandwidth() {
    }

    /** Best of several passes over {@code bytes} of memory, in GB/s (10^9 bytes per second). */
    static double measureReadGBps(long bytes) {
        int threads = Runtime.getRuntime().availableProcessors();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(bytes, 64);
            long step = SPECIES.vectorByteSize();
            for (long i = 0; i + 8 <= bytes; i += 4096) {
                buffer.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, i * 0x9E3779B97F4A7C15L);
            }
            long chunk = bytes / threads / step * step;
            double best = 0;
            float[] sink = new float[threads];
            for (int pass = 0; pass < 6; pass++) {
                long t0 = System.nanoTime();
                IntStream.range(0, threads).parallel().forEach(t -> {
                    FloatVector acc = FloatVector.zero(SPECIES);
                    long end = (t + 1) * chunk;
                    for (long off = t * chunk; off < end; off += step) {
                        acc = acc.add(FloatVector.fromMemorySegment(SPECIES, buffer, off, ByteOrder.LITTLE_ENDIAN));
                    }
                    sink[t] += acc.reduceLanes(VectorOperators.ADD);
                });
                double seconds = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, chunk * threads / seconds / 1e9);
            }
            blackhole = sink[0];
            return best;
        }
    }
}
