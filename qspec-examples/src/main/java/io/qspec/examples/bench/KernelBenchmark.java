package io.qspec.examples.bench;

import io.qspec.Precision;
import io.qspec.cpu.DenseMatMul;
import io.qspec.cpu.Int4MatMul;
import io.qspec.cpu.ParallelRows;
import io.qspec.model.DenseMatrix;
import io.qspec.quant.Int4Matrix;
import io.qspec.quant.Int4Quantizer;
import io.qspec.quant.QuantScheme;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * CPU linear-layer kernels: {@code m} activation rows times a weight of {@code shape = out x in},
 * in the three INT4 precisions (same packed weights, group size 128) and the FP32 baseline.
 * {@code m = 1} is decoding (GEMV, memory-bound: compare {@code Int4Matrix.byteSize()} / time with
 * the machine's bandwidth); {@code m = 4, 16} is speculative verify / batched draft.
 *
 * <p>Run after {@code ./mvnw -pl qspec-examples -am package -DskipTests}:
 * <pre>java --add-modules jdk.incubator.vector -cp "qspec-examples/target/classes:qspec-examples/target/lib/*" \
 *     org.openjdk.jmh.Main KernelBenchmark -p shape=4096x4096 -p m=1</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
public class KernelBenchmark {
    /** {@code out x in}: a square attention projection and the FFN down projection of a 7-8B model. */
    @Param({"4096x4096", "4096x14336"})
    public String shape;

    @Param({"1", "4", "16"})
    public int m;

    @Param({"W4A16", "W4A8", "W4A4", "FP32"})
    public Precision precision;

    /** Worker threads of the INT4 kernel; 0: {@link ParallelRows#shared()} (one per core). */
    @Param({"0"})
    public int threads;

    private Arena arena;
    private Int4Matrix int4;
    private DenseMatrix dense;
    private Int4MatMul int4Kernel;
    private final DenseMatMul denseKernel = new DenseMatMul();
    private float[] x;
    private float[] y;

    @Setup(Level.Trial)
    public void setUp() {
        String[] dims = shape.split("x");
        int rows = Integer.parseInt(dims[0]);
        int cols = Integer.parseInt(dims[1]);
        arena = Arena.ofShared();
        int4Kernel = threads == 0 ? new Int4MatMul() : new Int4MatMul(new ParallelRows(threads));
        long seed = 42;
        if (precision == Precision.FP32) {
            MemorySegment data = arena.allocate((long) rows * cols * Float.BYTES, 64);
            SplittableRandom random = new SplittableRandom(seed);
            for (long i = 0; i < (long) rows * cols; i++) {
                data.setAtIndex(DenseMatrix.LAYOUT, i, (float) random.nextGaussian());
            }
            dense = new DenseMatrix(rows, cols, data);
        } else {
            int4 = Int4Quantizer.quantize(arena, rows, cols, QuantScheme.DEFAULT, (row, dst) -> {
                SplittableRandom random = new SplittableRandom(seed + row);
                for (int k = 0; k < cols; k++) {
                    dst[k] = (float) random.nextGaussian();
                }
            });
        }
        SplittableRandom random = new SplittableRandom(seed - 1);
        x = new float[m * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        y = new float[m * rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] multiply() {
        if (precision == Precision.FP32) {
            denseKernel.multiply(dense, x, m, y);
        } else {
            int4Kernel.multiply(int4, x, m, y, precision);
        }
        return y;
    }
}
