package io.qspec.model;

import java.util.Objects;
import java.util.Optional;

/**
 * Hyper-parameters of a Llama-family decoder, independent of the file format they came from.
 *
 * @param architecture    the architecture name found in the file (e.g. {@code llama})
 * @param dim             model width (embedding length)
 * @param hiddenDim       feed-forward width (SwiGLU intermediate size)
 * @param layers          number of transformer blocks
 * @param heads           attention (query) heads
 * @param kvHeads         key/value heads; {@code heads % kvHeads == 0} (grouped-query attention)
 * @param headDim         width of one head
 * @param vocabSize       number of tokens
 * @param contextLength   longest sequence the model supports
 * @param rmsNormEps      epsilon of RMSNorm
 * @param ropeTheta       RoPE base frequency
 * @param ropeStyle       which pairs of a head vector RoPE rotates
 * @param ropeScaling     Llama-3 style frequency scaling, if the model uses it
 * @param tiedEmbeddings  whether the output projection reuses the token embedding
 */
public record ModelConfig(
        String architecture,
        int dim,
        int hiddenDim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int vocabSize,
        int contextLength,
        float rmsNormEps,
        float ropeTheta,
        RopeStyle ropeStyle,
        Optional<RopeScaling> ropeScaling,
        boolean tiedEmbeddings) {

    public ModelConfig {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(ropeStyle, "ropeStyle");
        Objects.requireNonNull(ropeScaling, "ropeScaling");
        requirePositive("dim", dim);
        requirePositive("hiddenDim", hiddenDim);
        requirePositive("layers", layers);
        requirePositive("heads", heads);
        requirePositive("kvHeads", kvHeads);
        requirePositive("headDim", headDim);
        requirePositive("vocabSize", vocabSize);
        requirePositive("contextLength", contextLength);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads (" + heads + ") must be a multiple of kvHeads (" + kvHeads + ")");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("headDim must be even for RoPE, got " + headDim);
        }
        // every width a backend sizes buffers by must be an int: a file claiming more is refused here, not overflowed
        if ((long) heads * headDim > Integer.MAX_VALUE || (heads + 2L * kvHeads) * headDim > Integer.MAX_VALUE
                || 2L * hiddenDim > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("attention or feed-forward widths too large: heads " + heads + ", kvHeads "
                    + kvHeads + ", headDim " + headDim + ", hiddenDim " + hiddenDim);
        }
        if (ropeScaling.orElse(null) instanceof RopeScaling.FrequencyFactors f && f.divisors().length != headDim / 2) {
            throw new IllegalArgumentException("RoPE frequency factors: " + f.divisors().length + " given, headDim/2 = "
                    + headDim / 2 + " needed");
        }
    }

    /**
     * RoPE's inverse frequency for each of the {@code headDim/2} rotations of a head:
     * {@code theta^(-2i/headDim)}, rescaled by {@link #ropeScaling()}. Every backend uses these.
     */
    public double[] ropeInverseFrequencies() {
        double[] out = new double[headDim / 2];
        for (int i = 0; i < out.length; i++) {
            double f = 1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim);
            int pair = i;
            out[i] = ropeScaling.map(s -> s.scale(pair, f)).orElse(f);
        }
        return out;
    }

    /** Width of the query projection output, {@code heads * headDim}. */
    public int qDim() {
        return heads * headDim;
    }

    /** Width of each of the key and value projection outputs, {@code kvHeads * headDim}. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
