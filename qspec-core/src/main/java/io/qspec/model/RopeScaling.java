package io.qspec.model;

/**
 * How a model rescales RoPE's inverse frequencies for long contexts. Pair {@code i} of a head
 * (rotation {@code i} of {@code headDim/2}) has base inverse frequency {@code theta^(-2i/headDim)};
 * {@link #scale} maps it to the one the model uses.
 */
public sealed interface RopeScaling permits RopeScaling.Llama3, RopeScaling.FrequencyFactors {

    /** The inverse frequency pair {@code pair} uses, given its base value. */
    double scale(int pair, double inverseFrequency);

    /** Llama-3 scaling from its four parameters ({@code rope_scaling} of a Hugging Face config). */
    static RopeScaling llama3(float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) {
        return new Llama3(factor, lowFreqFactor, highFreqFactor, originalContextLength);
    }

    /**
     * Llama-3 ({@code rope_type = "llama3"}): long wavelengths are divided by {@code factor}, short
     * ones kept, and the band between is interpolated smoothly.
     */
    record Llama3(float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) implements RopeScaling {
        @Override
        public double scale(int pair, double inverseFrequency) {
            double lowFreqWavelen = originalContextLength / lowFreqFactor;
            double highFreqWavelen = originalContextLength / highFreqFactor;
            double wavelen = 2 * Math.PI / inverseFrequency;
            if (wavelen < highFreqWavelen) {
                return inverseFrequency;
            }
            if (wavelen > lowFreqWavelen) {
                return inverseFrequency / factor;
            }
            double smooth = (originalContextLength / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
            return (1 - smooth) * inverseFrequency / factor + smooth * inverseFrequency;
        }
    }

    /**
     * One divisor per pair, as GGUF files store Llama-3.1 scaling (tensor {@code rope_freqs.weight},
     * which llama.cpp divides the base frequencies by).
     */
    record FrequencyFactors(float[] divisors) implements RopeScaling {
        public FrequencyFactors {
            divisors = divisors.clone();
            for (float d : divisors) {
                if (!(d > 0) || Float.isInfinite(d)) {
                    throw new IllegalArgumentException("RoPE frequency divisors must be positive and finite, got " + d);
                }
            }
        }

        @Override
        public float[] divisors() {
            return divisors.clone();
        }

        @Override
        public double scale(int pair, double inverseFrequency) {
            return inverseFrequency / divisors[pair];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FrequencyFactors f && java.util.Arrays.equals(f.divisors, divisors);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(divisors);
        }
    }
}
