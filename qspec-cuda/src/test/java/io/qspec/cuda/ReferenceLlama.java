package io.qspec.cuda;

import io.qspec.Precision;
import io.qspec.format.TensorDecoding;
import io.qspec.model.DenseMatrix;
import io.qspec.model.LayerWeights;
import io.qspec.model.LinearWeight;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import io.qspec.model.RopeStyle;
import io.qspec.quant.Int4Matrix;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain scalar Llama forward in float64 with the semantics of native/include/qspec_cuda.h, used to
 * judge the GPU's logits. It rounds to fp16 exactly where the kernels store fp16 (embedding table, A16
 * GEMM inputs, K/V cache, attention and SwiGLU outputs) and quantizes draft activations per token and
 * group: {@code scale = max|x| / qmax} (qmax 127 for A8, 7 for A4), {@code q = clamp(rint(x * qmax / max|x|))}.
 *
 * <p>{@link Precision#FP32} is the GPU's W16A16 baseline: W4A16's computation with the dense weights rounded
 * to fp16 where the model has them, and with the INT4 weights (the same function as W4A16) where it has not.
 */
final class ReferenceLlama {
    private final Model model;
    private final ModelConfig c;
    private final float[] invFreq;

    ReferenceLlama(Model model) {
        this.model = model;
        this.c = model.config();
        this.invFreq = RopeFrequencies.inverseFrequencies(c);
    }

    /** One sequence's cache: fp16-rounded K and V rows per layer and position. */
    final class Sequence {
        final List<List<double[]>> keys = new ArrayList<>();
        final List<List<double[]>> values = new ArrayList<>();

        Sequence() {
            for (int l = 0; l < c.layers(); l++) {
                keys.add(new ArrayList<>());
                values.add(new ArrayList<>());
            }
        }

        int length() {
            return keys.getFirst().size();
        }

        void truncate(int length) {
            for (int l = 0; l < c.layers(); l++) {
                keys.get(l).subList(length, keys.get(l).size()).clear();
                values.get(l).subList(length, values.get(l).size()).clear();
            }
        }
    }

    Sequence newSequence() {
        return new Sequence();
    }

    /** Appends {@code tokens} to {@code seq} one at a time; returns the logits of every token. */
    double[][] forward(Sequence seq, int[] tokens, Precision precision) {
        double[][] logits = new double[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            logits[i] = step(seq, tokens[i], precision);
        }
        return logits;
    }

    private double[] step(Sequence seq, int token, Precision p) {
        int pos = seq.length();
        float[] row = new float[c.dim()];
        TensorDecoding.decodeRow(model.weights().tokenEmbedding(), token, row);
        double[] x = new double[c.dim()];
        for (int i = 0; i < x.length; i++) {
            x[i] = half(row[i]);
        }
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights w = model.weights().layers().get(l);
            double[] xn = rmsnorm(x, w.attentionNorm());
            double[] q = linearAfterNorm(xn, w.wq(), p);
            double[] k = linearAfterNorm(xn, w.wk(), p);
            double[] v = linearAfterNorm(xn, w.wv(), p);
            rope(q, c.heads(), pos);
            rope(k, c.kvHeads(), pos);
            seq.keys.get(l).add(halfAll(k));
            seq.values.get(l).add(halfAll(v));
            double[] attn = halfAll(attention(q, seq.keys.get(l), seq.values.get(l)));
            add(x, linearOfHalf(attn, w.wo(), p));
            double[] hn = rmsnorm(x, w.ffnNorm());
            double[] gate = linearAfterNorm(hn, w.gate(), p);
            double[] up = linearAfterNorm(hn, w.up(), p);
            double[] h = new double[gate.length];
            for (int i = 0; i < h.length; i++) {
                h[i] = half(gate[i] / (1 + Math.exp(-gate[i])) * up[i]);
            }
            add(x, linearOfHalf(h, w.down(), p));
        }
        return linearAfterNorm(rmsnorm(x, model.weights().finalNorm()), model.weights().output(), p);
    }

    private double[] rmsnorm(double[] x, float[] w) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] * inv * w[i];
        }
        return y;
    }

    /** GEMM on a normed fp32 row: rounded to fp16 (A16), or quantized straight from fp32 (fused norm+quantize). */
    private double[] linearAfterNorm(double[] xn, LinearWeight w, Precision p) {
        return p.quantizesActivations() ? quantizedGemm(xn, w.int4(), p.activationBits()) : a16Gemm(halfAll(xn), w, p);
    }

    /** GEMM on an input already held in fp16. */
    private double[] linearOfHalf(double[] x, LinearWeight w, Precision p) {
        return p.quantizesActivations() ? quantizedGemm(x, w.int4(), p.activationBits()) : a16Gemm(x, w, p);
    }

    /** fp16 input times the INT4 weights (W4A16), or for FP32 the dense weights in fp16 when the model has them. */
    private static double[] a16Gemm(double[] x, LinearWeight w, Precision p) {
        Int4Matrix int4 = w.int4();
        DenseMatrix dense = p == Precision.FP32 ? w.dense().orElse(null) : null;
        double[] y = new double[int4.rows()];
        for (int n = 0; n < int4.rows(); n++) {
            double s = 0;
            for (int k = 0; k < int4.cols(); k++) {
                s += x[k] * (dense != null ? half(dense.get(n, k)) : int4.dequantized(n, k));
            }
            y[n] = s;
        }
        return y;
    }

    private static double[] quantizedGemm(double[] x, Int4Matrix w, int bits) {
        int group = w.groupSize();
        int groups = w.groupsPerRow();
        double qmax = bits == 8 ? 127 : 7;
        double qmin = bits == 8 ? -127 : -8;
        int[] qx = new int[groups * group];
        float[] xs = new float[groups];
        for (int g = 0; g < groups; g++) {
            double max = 0;
            for (int k = g * group; k < Math.min(w.cols(), (g + 1) * group); k++) {
                max = Math.max(max, Math.abs(x[k]));
            }
            // in float, as the kernels compute it: a value at a rounding boundary then rounds the same way
            float amax = (float) max;
            xs[g] = amax / (float) qmax;
            float inverse = amax > 0 ? (float) qmax / amax : 0f;
            for (int k = g * group; k < Math.min(w.cols(), (g + 1) * group); k++) {
                qx[k] = (int) Math.max(qmin, Math.min(qmax, Math.rint((float) x[k] * inverse)));
            }
        }
        double[] y = new double[w.rows()];
        for (int n = 0; n < w.rows(); n++) {
            double s = 0;
            for (int g = 0; g < groups; g++) {
                long dot = 0;
                for (int k = g * group; k < Math.min(w.cols(), (g + 1) * group); k++) {
                    dot += (long) w.q(n, k) * qx[k];
                }
                s += (double) w.scale(n, g) * xs[g] * dot;
            }
            y[n] = s;
        }
        return y;
    }

    private void rope(double[] v, int heads, int pos) {
        int d = c.headDim();
        int half = d / 2;
        for (int h = 0; h < heads; h++) {
            int base = h * d;
            for (int i = 0; i < half; i++) {
                int a = c.ropeStyle() == RopeStyle.INTERLEAVED ? base + 2 * i : base + i;
                int b = c.ropeStyle() == RopeStyle.INTERLEAVED ? base + 2 * i + 1 : base + i + half;
                double angle = pos * (double) invFreq[i];
                double cos = Math.cos(angle);
                double sin = Math.sin(angle);
                double x0 = v[a];
                double x1 = v[b];
                v[a] = x0 * cos - x1 * sin;
                v[b] = x0 * sin + x1 * cos;
            }
        }
    }

    private double[] attention(double[] q, List<double[]> keys, List<double[]> values) {
        int d = c.headDim();
        int group = c.heads() / c.kvHeads();
        double[] out = new double[c.qDim()];
        double scale = 1 / Math.sqrt(d);
        for (int h = 0; h < c.heads(); h++) {
            int kvBase = (h / group) * d;
            double[] scores = new double[keys.size()];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < keys.size(); t++) {
                double s = 0;
                for (int i = 0; i < d; i++) {
                    s += q[h * d + i] * keys.get(t)[kvBase + i];
                }
                scores[t] = s * scale;
                max = Math.max(max, scores[t]);
            }
            double sum = 0;
            for (int t = 0; t < scores.length; t++) {
                scores[t] = Math.exp(scores[t] - max);
                sum += scores[t];
            }
            for (int t = 0; t < scores.length; t++) {
                for (int i = 0; i < d; i++) {
                    out[h * d + i] += scores[t] / sum * values.get(t)[kvBase + i];
                }
            }
        }
        return out;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }

    static double half(double v) {
        return Float.float16ToFloat(Float.floatToFloat16((float) v));
    }

    private static double[] halfAll(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = half(v[i]);
        }
        return out;
    }
}
