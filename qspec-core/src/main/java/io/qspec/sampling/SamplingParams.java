package io.qspec.sampling;

import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * How one request turns logits into tokens. Immutable; build with {@link #builder()}.
 *
 * <p>Defaults: {@code temperature 0} (greedy), {@code topK 0} (off), {@code topP 1} (off),
 * {@code minP 0} (off), {@code repetitionPenalty 1} (off), {@code frequencyPenalty 0},
 * {@code presencePenalty 0}, {@code seed 0}. The filters are applied by {@link LogitsProcessor}
 * in the order penalties, temperature, top-k, top-p, min-p.
 *
 * @param temperature       divides the logits; 0 means greedy (argmax, lowest index on ties)
 * @param topK              keep only the k most probable tokens; 0 disables
 * @param topP              nucleus: keep the smallest most-probable set whose mass is at least p; 1 disables
 * @param minP              drop tokens whose probability is below {@code minP * max probability}; 0 disables
 * @param repetitionPenalty HF/llama.cpp style: a logit of a token seen before is divided by it when
 *                          positive, multiplied by it when negative; 1 disables
 * @param frequencyPenalty  subtracted from a seen token's logit once per occurrence
 * @param presencePenalty   subtracted once from the logit of every token seen at least once
 * @param seed              seeds the request's random source: same seed, same tokens
 */
public record SamplingParams(
        double temperature,
        int topK,
        double topP,
        double minP,
        double repetitionPenalty,
        double frequencyPenalty,
        double presencePenalty,
        long seed) {

    /** Greedy decoding with no penalties: what every request gets unless it asks for more. */
    public static final SamplingParams GREEDY = builder().build();

    /** The generator algorithm behind {@link #newRandom()}: fast, splittable-quality, and reproducible by seed. */
    public static final String RANDOM_ALGORITHM = "L64X128MixRandom";

    public SamplingParams {
        requireFinite("temperature", temperature);
        if (temperature < 0) {
            throw new IllegalArgumentException("temperature must be >= 0 (0 = greedy), got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
        }
        requireFinite("topP", topP);
        if (topP <= 0 || topP > 1) {
            throw new IllegalArgumentException("topP must be in (0, 1] (1 = off), got " + topP);
        }
        requireFinite("minP", minP);
        if (minP < 0 || minP > 1) {
            throw new IllegalArgumentException("minP must be in [0, 1] (0 = off), got " + minP);
        }
        requireFinite("repetitionPenalty", repetitionPenalty);
        if (repetitionPenalty <= 0) {
            throw new IllegalArgumentException("repetitionPenalty must be > 0 (1 = off), got " + repetitionPenalty);
        }
        requireFinite("frequencyPenalty", frequencyPenalty);
        requireFinite("presencePenalty", presencePenalty);
    }

    private static void requireFinite(String name, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be a finite number, got " + value);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder preset with these values, for deriving a variant. */
    public Builder toBuilder() {
        return new Builder()
                .temperature(temperature).topK(topK).topP(topP).minP(minP)
                .repetitionPenalty(repetitionPenalty).frequencyPenalty(frequencyPenalty)
                .presencePenalty(presencePenalty).seed(seed);
    }

    /** Whether tokens are chosen by argmax (temperature 0) rather than drawn at random. */
    public boolean isGreedy() {
        return temperature == 0;
    }

    /** Whether any of the history-dependent penalties is active. */
    public boolean hasPenalties() {
        return repetitionPenalty != 1 || frequencyPenalty != 0 || presencePenalty != 0;
    }

    /** A fresh random source seeded with {@link #seed()}; one per request, never shared between threads. */
    public RandomGenerator newRandom() {
        return RandomGeneratorFactory.of(RANDOM_ALGORITHM).create(seed);
    }

    /** Mutable builder for {@link SamplingParams}; validation happens in {@link #build()}. */
    public static final class Builder {
        private double temperature = 0;
        private int topK = 0;
        private double topP = 1;
        private double minP = 0;
        private double repetitionPenalty = 1;
        private double frequencyPenalty = 0;
        private double presencePenalty = 0;
        private long seed = 0;

        private Builder() {
        }

        public Builder temperature(double temperature) {
            this.temperature = temperature;
            return this;
        }

        public Builder topK(int topK) {
            this.topK = topK;
            return this;
        }

        public Builder topP(double topP) {
            this.topP = topP;
            return this;
        }

        public Builder minP(double minP) {
            this.minP = minP;
            return this;
        }

        public Builder repetitionPenalty(double repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        public Builder frequencyPenalty(double frequencyPenalty) {
            this.frequencyPenalty = frequencyPenalty;
            return this;
        }

        public Builder presencePenalty(double presencePenalty) {
            this.presencePenalty = presencePenalty;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** @throws IllegalArgumentException naming the first out-of-range parameter */
        public SamplingParams build() {
            return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty,
                    frequencyPenalty, presencePenalty, seed);
        }
    }
}
