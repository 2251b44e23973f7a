package io.qspec.quant;

import io.qspec.format.LlamaCpp;
import io.qspec.format.TensorType;
import java.lang.foreign.Arena;
import java.util.Random;

/**
 * What loading an already-quantized GGUF costs in accuracy: a weight matrix of Llama's scale (Gaussian, std 0.02,
 * one value in 500 six times larger) is quantized by llama.cpp into each block type, decoded, and quantized again into
 * the shared INT4 set; printed is the relative RMS error against the original weights, before and after. Not a test
 * (docs/FIDELITY.md quotes it); run with the command there.
 */
public final class RequantizationErrorReport {
    private RequantizationErrorReport() {
    }

    public static void main(String[] args) {
        int rows = 1024;
        int cols = 4096;
        Random random = new Random(1);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            double v = random.nextGaussian() * 0.02;
            w[i] = (float) (random.nextInt(500) == 0 ? 6 * v : v);
        }
        LlamaCpp ggml = LlamaCpp.get();
        int[] groups = {128, 64, 32};
        System.out.println("| file type | bits/weight | its own error | then INT4 g128 | g64 | g32 |");
        System.out.println("|---|---|---|---|---|---|");
        row("F32", 32, w, w, rows, cols, groups);
        for (TensorType t : new TensorType[] {TensorType.Q8_0, TensorType.Q6_K, TensorType.Q5_K, TensorType.Q4_K,
                TensorType.Q4_0, TensorType.IQ4_XS, TensorType.IQ4_NL, TensorType.Q3_K, TensorType.Q2_K}) {
            float[] decoded = ggml.dequantize(t, ggml.quantize(t, w, rows, cols), w.length);
            row(t.name(), 8.0 * t.blockBytes() / t.blockSize(), w, decoded, rows, cols, groups);
        }
    }

    private static void row(String name, double bits, float[] original, float[] source, int rows, int cols, int[] groups) {
        StringBuilder line = new StringBuilder(String.format("| %s | %.2f | %.4f |", name, bits, error(original, source, rows, cols, 0)));
        for (int g : groups) {
            line.append(String.format(" %.4f |", error(original, source, rows, cols, g)));
        }
        System.out.println(line);
    }

    /** Relative RMS error of {@code source} (group 0), or of its INT4 quantization with group {@code g}. */
    private static double error(float[] original, float[] source, int rows, int cols, int g) {
        try (Arena arena = Arena.ofConfined()) {
            Int4Matrix m = g == 0 ? null : Int4Quantizer.quantize(arena, rows, cols, QuantScheme.grouped(g),
                    (row, dst) -> System.arraycopy(source, row * cols, dst, 0, cols));
            double err = 0;
            double sum = 0;
            for (int n = 0; n < rows; n++) {
                for (int k = 0; k < cols; k++) {
                    double o = original[n * cols + k];
                    double v = m == null ? source[n * cols + k] : m.dequantized(n, k);
                    err += (v - o) * (v - o);
                    sum += o * o;
                }
            }
            return Math.sqrt(err / sum);
        }
    }
}
