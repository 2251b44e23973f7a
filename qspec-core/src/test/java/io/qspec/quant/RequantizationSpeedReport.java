package io.qspec.quant;

import io.qspec.format.LlamaCpp;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorDecoding;
import io.qspec.format.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * How fast a GGUF tensor becomes the INT4 set at load: a 14336 × 4096 matrix (Llama-3-8B's gate) in each file type,
 * decoded and quantized on all processors, the third of three runs. Not a test (docs/PERFORMANCE.md quotes it).
 */
public final class RequantizationSpeedReport {
    private RequantizationSpeedReport() {
    }

    public static void main(String[] args) {
        int rows = 14336;
        int cols = 4096;
        float[] w = new float[rows * cols];
        Random random = new Random(1);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.02);
        }
        LlamaCpp ggml = LlamaCpp.get();
        for (TensorType t : new TensorType[] {TensorType.Q4_K, TensorType.Q6_K, TensorType.Q8_0, TensorType.F16}) {
            byte[] bytes = t == TensorType.F16 ? f16(w) : ggml.quantize(t, w, rows, cols);
            RawTensor raw = new RawTensor("w", t, new long[] {rows, cols}, MemorySegment.ofArray(bytes));
            double seconds = 0;
            for (int run = 0; run < 3; run++) {
                long t0 = System.nanoTime();
                try (Arena arena = Arena.ofShared()) {
                    Int4Quantizer.quantize(arena, rows, cols, QuantScheme.DEFAULT, (row, dst) -> TensorDecoding.decodeRow(raw, row, dst));
                }
                seconds = (System.nanoTime() - t0) / 1e9;
            }
            System.out.printf("| %s | %.0f ms | %.0f M weights/s | %.0f MB/s of file |%n", t, seconds * 1e3,
                    (double) rows * cols / seconds / 1e6, bytes.length / seconds / 1e6);
        }
    }

    private static byte[] f16(float[] w) {
        byte[] b = new byte[w.length * 2];
        for (int i = 0; i < w.length; i++) {
            short h = Float.floatToFloat16(w[i]);
            b[2 * i] = (byte) h;
            b[2 * i + 1] = (byte) (h >> 8);
        }
        return b;
    }
}
