package io.qspec;

import io.qspec.sampling.SamplingParams;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One generation job: a prompt (text, or token ids), how many tokens at most, how to decode, and
 * when to stop. Immutable; build with {@link #builder(String)} or {@link #builder(int[])}.
 */
public final class GenerationRequest {
    private final String prompt;
    private final int[] promptTokens;
    private final boolean addBos;
    private final int maxTokens;
    private final DecodingMode mode;
    private final int[] stopTokenIds;
    private final SamplingParams sampling;
    private final List<String> stopStrings;
    private final boolean ignoreEos;

    private GenerationRequest(Builder b) {
        this.prompt = b.prompt;
        this.promptTokens = b.promptTokens == null ? null : b.promptTokens.clone();
        this.addBos = b.addBos;
        this.maxTokens = b.maxTokens;
        this.mode = b.mode;
        this.stopTokenIds = b.stopTokenIds.clone();
        this.sampling = b.seed == null ? b.sampling : b.sampling.toBuilder().seed(b.seed).build();
        this.stopStrings = List.copyOf(b.stopStrings);
        this.ignoreEos = b.ignoreEos;
    }

    /** A request whose prompt is text, tokenized with the model's tokenizer. */
    public static Builder builder(String prompt) {
        return new Builder(Objects.requireNonNull(prompt, "prompt"), null);
    }

    /** A request whose prompt is given as token ids (no BOS is added). */
    public static Builder builder(int[] promptTokens) {
        Objects.requireNonNull(promptTokens, "promptTokens");
        return new Builder(null, promptTokens.clone()).addBos(false);
    }

    /** The text prompt, if the prompt was given as text. */
    public Optional<String> prompt() {
        return Optional.ofNullable(prompt);
    }

    /** The prompt ids, if the prompt was given as ids. */
    public Optional<int[]> promptTokens() {
        return Optional.ofNullable(promptTokens).map(int[]::clone);
    }

    /** Whether the model's BOS token is prepended to a text prompt. */
    public boolean addBos() {
        return addBos;
    }

    public int maxTokens() {
        return maxTokens;
    }

    public DecodingMode mode() {
        return mode;
    }

    public int[] stopTokenIds() {
        return stopTokenIds.clone();
    }

    /** Temperature, top-k/top-p/min-p, penalties and seed (default: greedy). */
    public SamplingParams sampling() {
        return sampling;
    }

    /** Texts that end generation when they appear in the output (they are not included in it). */
    public List<String> stopStrings() {
        return stopStrings;
    }

    /** Whether the end-of-sequence token is treated as an ordinary token (fixed-length benchmarks). */
    public boolean ignoreEos() {
        return ignoreEos;
    }

    @Override
    public String toString() {
        return "GenerationRequest[" + (prompt != null ? '"' + prompt + '"' : Arrays.toString(promptTokens))
                + ", maxTokens=" + maxTokens + ", mode=" + mode.label() + "]";
    }

    /** Builder with defaults: 256 tokens, QSpec with an A8 draft, γ = 3, greedy, BOS added. */
    public static final class Builder {
        private final String prompt;
        private final int[] promptTokens;
        private boolean addBos = true;
        private int maxTokens = 256;
        private DecodingMode mode = DecodingMode.qspec(DraftMode.a8());
        private int[] stopTokenIds = new int[0];
        private SamplingParams sampling = SamplingParams.GREEDY;
        private Long seed;
        private List<String> stopStrings = List.of();
        private boolean ignoreEos;

        private Builder(String prompt, int[] promptTokens) {
            this.prompt = prompt;
            this.promptTokens = promptTokens;
        }

        public Builder addBos(boolean value) {
            this.addBos = value;
            return this;
        }

        public Builder maxTokens(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("maxTokens must be at least 1, got " + value);
            }
            this.maxTokens = value;
            return this;
        }

        public Builder mode(DecodingMode value) {
            this.mode = Objects.requireNonNull(value, "mode");
            return this;
        }

        public Builder stopTokenIds(int... ids) {
            this.stopTokenIds = Objects.requireNonNull(ids, "stopTokenIds").clone();
            return this;
        }

        /**
         * Sampling parameters; at temperature &gt; 0, QSpec's default greedy acceptance becomes rejection sampling.
         * A seed given with {@link #seed(long)} overrides the one in {@code value}, whichever is called first.
         */
        public Builder sampling(SamplingParams value) {
            this.sampling = Objects.requireNonNull(value, "sampling");
            return this;
        }

        /**
         * Seed of the request's random source (same seed, request and mode: same output). It holds whether
         * {@link #sampling(SamplingParams)} is called before or after.
         */
        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        public Builder stopStrings(String... values) {
            for (String v : Objects.requireNonNull(values, "stopStrings")) {
                if (v == null || v.isEmpty()) {
                    throw new IllegalArgumentException("stop strings must be non-empty");
                }
            }
            this.stopStrings = List.of(values);
            return this;
        }

        /** Keep generating past EOS, up to maxTokens (for benchmarks with a fixed output length). */
        public Builder ignoreEos(boolean value) {
            this.ignoreEos = value;
            return this;
        }

        public GenerationRequest build() {
            return new GenerationRequest(this);
        }
    }
}
