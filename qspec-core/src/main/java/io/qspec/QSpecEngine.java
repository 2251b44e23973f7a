package io.qspec;

import io.qspec.backend.Backend;
import io.qspec.backend.Backends;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.SequenceInput;
import io.qspec.engine.SpeculativeRound;
import io.qspec.engine.TokenChoice;
import io.qspec.kv.KvCache;
import io.qspec.model.Model;
import io.qspec.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Generates text from a {@link Model} on a backend, plainly or with QSpec.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("stories260K.gguf"));
 *      QSpecEngine engine = QSpecEngine.builder(model).build()) {
 *     GenerationResult r = engine.generate(GenerationRequest.builder("Once upon a time").maxTokens(64).build());
 *     System.out.println(r.text() + "  (acceptance " + r.speculation().acceptanceRate() + ")");
 * }
 * }</pre>
 *
 * Thread-safe: concurrent {@code generate} calls are served one after another.
 */
public final class QSpecEngine implements AutoCloseable {
    private final Model model;
    private final ModelRunner runner;
    private final ReentrantLock lock = new ReentrantLock();

    private QSpecEngine(Model model, ModelRunner runner) {
        this.model = model;
        this.runner = runner;
    }

    public static Builder builder(Model model) {
        return new Builder(model);
    }

    public Model model() {
        return model;
    }

    /** The backend this engine runs on ({@code cpu}, {@code cuda}). */
    public String backendName() {
        return runner.backendName();
    }

    /** The runner underneath, for benchmarks and tools that drive forward passes directly. */
    public ModelRunner runner() {
        return runner;
    }

    /** Runs {@code request} to completion. */
    public GenerationResult generate(GenerationRequest request) {
        int[] prompt = promptTokens(request);
        int context = model.config().contextLength();
        if (prompt.length >= context) {
            throw new InvalidRequestException("prompt has " + prompt.length + " tokens but the model's context holds "
                    + context + " (including at least one generated token); shorten the prompt");
        }
        int lookahead = request.mode() instanceof DecodingMode.Speculative s ? s.draft().gamma() + 1 : 1;
        int capacity = (int) Math.min(context, (long) prompt.length + request.maxTokens() + lookahead);
        lock.lock();
        try (KvCache cache = runner.newCache(capacity)) {
            return decode(request, prompt, cache);
        } finally {
            lock.unlock();
        }
    }

    private GenerationResult decode(GenerationRequest request, int[] prompt, KvCache cache) {
        RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(request.seed());
        Function<float[], float[]> toProbabilities = QSpecEngine::softmax;
        Precision prefillPrecision = request.mode() instanceof DecodingMode.Plain p ? p.precision() : Precision.W4A16;

        long t0 = System.nanoTime();
        Logits prefill = runner.forward(List.of(new SequenceInput(cache, prompt, false)), prefillPrecision);
        int next = TokenChoice.argmax(prefill.row(0, 0));
        long prefillNanos = System.nanoTime() - t0;

        Output out = new Output(request, model.tokenizer(), model.config().contextLength(), prompt.length);
        SpeculationCounter spec = new SpeculationCounter();
        long draftNanos = 0;
        long verifyNanos = 0;
        long t1 = System.nanoTime();
        boolean done = out.commit(next);
        while (!done) {
            switch (request.mode()) {
                case DecodingMode.Plain p -> {
                    Logits logits = runner.forward(List.of(new SequenceInput(cache, new int[] {next}, false)), p.precision());
                    next = TokenChoice.argmax(logits.row(0, 0));
                    done = out.commit(next);
                }
                case DecodingMode.Speculative s -> {
                    // draft no further than the tokens still wanted and the room left in the cache
                    int room = Math.min(out.remaining() - 1, cache.capacity() - cache.length() - 1);
                    if (room < 1) {
                        Logits logits = runner.forward(List.of(new SequenceInput(cache, new int[] {next}, false)), Precision.W4A16);
                        next = TokenChoice.argmax(logits.row(0, 0));
                        done = out.commit(next);
                        break;
                    }
                    int gamma = Math.min(s.draft().gamma(), room);
                    SpeculativeRound.Outcome r = SpeculativeRound.run(runner, cache, next, s.draft(), gamma,
                            s.acceptance(), toProbabilities, random);
                    spec.record(r);
                    draftNanos += r.draftNanos();
                    verifyNanos += r.verifyNanos();
                    for (int token : r.tokens()) {
                        next = token;
                        done = out.commit(token);
                        if (done) {
                            break;
                        }
                    }
                }
            }
        }
        long decodeNanos = System.nanoTime() - t1;
        return new GenerationResult(model.tokenizer().decode(out.tokens()), out.tokens(), out.finishReason,
                prompt.length, request.mode(), runner.backendName(),
                new Timings(prefillNanos, decodeNanos, draftNanos, verifyNanos), spec.stats());
    }

    private int[] promptTokens(GenerationRequest request) {
        int[] ids = request.promptTokens().orElseGet(() ->
                model.tokenizer().encode(request.prompt().orElseThrow(), request.addBos()));
        if (ids.length == 0) {
            throw new InvalidRequestException("the prompt is empty (no tokens, and no BOS token to start from)");
        }
        int vocab = model.config().vocabSize();
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new InvalidRequestException("prompt token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        return ids;
    }

    /** Numerically stable softmax: the temperature-1 distribution of a logit row. */
    static float[] softmax(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        float[] p = new float[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = (float) Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (p[i] / sum);
        }
        return p;
    }

    @Override
    public void close() {
        runner.close();
    }

    /** Collects generated tokens and decides when to stop. */
    private static final class Output {
        private final GenerationRequest request;
        private final int eos;
        private final int limit;
        private int[] tokens = new int[16];
        private int count;
        FinishReason finishReason;

        Output(GenerationRequest request, Tokenizer tokenizer, int context, int promptLength) {
            this.request = request;
            this.eos = tokenizer.eosId().orElse(-1);
            this.limit = Math.min(request.maxTokens(), context - promptLength);
        }

        /** Appends {@code token}; returns true when generation must stop. */
        boolean commit(int token) {
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, count * 2);
            }
            tokens[count++] = token;
            if (token == eos) {
                finishReason = FinishReason.EOS;
            } else if (request.isStopToken(token)) {
                finishReason = FinishReason.STOP_TOKEN;
            } else if (count >= request.maxTokens()) {
                finishReason = FinishReason.MAX_TOKENS;
            } else if (count >= limit) {
                finishReason = FinishReason.CONTEXT_FULL;
            }
            return finishReason != null;
        }

        int remaining() {
            return limit - count;
        }

        int[] tokens() {
            return Arrays.copyOf(tokens, count);
        }
    }

    /** Accumulates draft/accept counts per position. */
    private static final class SpeculationCounter {
        private int rounds;
        private long drafted;
        private long accepted;
        private final long[] acceptedAt = new long[DraftMode.MAX_GAMMA];
        private final long[] draftedAt = new long[DraftMode.MAX_GAMMA];
        private int maxGamma;

        void record(SpeculativeRound.Outcome r) {
            rounds++;
            drafted += r.drafted();
            accepted += r.accepted();
            maxGamma = Math.max(maxGamma, r.drafted());
            for (int i = 0; i < r.drafted(); i++) {
                draftedAt[i]++;
                if (i < r.accepted()) {
                    acceptedAt[i]++;
                }
            }
        }

        SpeculationStats stats() {
            if (rounds == 0) {
                return SpeculationStats.NONE;
            }
            return new SpeculationStats(rounds, drafted, accepted, Arrays.copyOf(acceptedAt, maxGamma),
                    Arrays.copyOf(draftedAt, maxGamma));
        }
    }

    /** Configures an engine: which backend (default: the best available). */
    public static final class Builder {
        private final Model model;
        private String backend = "auto";

        private Builder(Model model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /** {@code auto} (default), {@code cpu} or {@code cuda}. */
        public Builder backend(String name) {
            this.backend = Objects.requireNonNull(name, "backend");
            return this;
        }

        public QSpecEngine build() {
            Backend b = Backends.select(backend);
            return new QSpecEngine(model, b.open(model));
        }
    }
}
