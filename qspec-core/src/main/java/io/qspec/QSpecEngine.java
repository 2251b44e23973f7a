package io.qspec;

import io.qspec.backend.Backend;
import io.qspec.backend.Backends;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.RunnerOptions;
import io.qspec.engine.EngineMetrics;
import io.qspec.engine.Scheduler;
import io.qspec.engine.Sequences;
import io.qspec.engine.SpeculationGate;
import io.qspec.model.Model;
import java.util.Objects;

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
 * Thread-safe: any number of threads may call {@link #generate} or {@link #submit} at once; their
 * requests are decoded together by continuous batching (see {@link Scheduler}). Batching never
 * changes a request's tokens.
 */
public final class QSpecEngine implements AutoCloseable {
    private final Model model;
    private final ModelRunner runner;
    private final Scheduler scheduler;

    private QSpecEngine(Model model, ModelRunner runner, SpeculationGate gate) {
        this.model = model;
        this.runner = runner;
        this.scheduler = new Scheduler(runner, gate);
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

    /** Runs {@code request} to completion (blocking). */
    public GenerationResult generate(GenerationRequest request) {
        scheduler.requireCallerThread("generate()");
        return submit(request, StreamHandler.NONE).join();
    }

    /**
     * Queues {@code request}; {@code handler} receives its text as tokens are accepted. Invalid
     * requests (prompt longer than the context, token ids outside the vocabulary, more KV memory than
     * the engine has, a precision the backend cannot run) are rejected here with an exception, before
     * anything is queued.
     *
     * @throws InvalidRequestException if the request can never be served by this engine
     * @throws IllegalStateException   if the engine is closed
     */
    public GenerationHandle submit(GenerationRequest request, StreamHandler handler) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(handler, "handler");
        return Sequences.submit(scheduler, runner, request, handler);
    }

    /** Queue length, KV use and batch sizes right now. */
    public EngineMetrics.Snapshot metrics() {
        return scheduler.metrics();
    }

    /** Stops the engine: unfinished requests complete as cancelled; the runner is closed (the model is not). */
    @Override
    public void close() {
        scheduler.close();
        runner.close();
    }

    /** Configures an engine: which backend (default: the best available) and how much KV memory. */
    public static final class Builder {
        private final Model model;
        private String backend = "auto";
        private Backend backendInstance;
        private long kvCacheBytes;
        private SpeculationGate speculationGate = SpeculationGate.always();

        private Builder(Model model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /**
         * {@code auto} (default: the best usable backend that takes the model, e.g. the GPU, else the CPU; the choice
         * and every backend passed over are logged with the reason), {@code cpu} or {@code cuda}.
         */
        public Builder backend(String name) {
            this.backend = Objects.requireNonNull(name, "backend");
            return this;
        }

        /** A specific backend instance (a custom one, or one configured by the caller). */
        public Builder backend(Backend instance) {
            this.backendInstance = Objects.requireNonNull(instance, "backend");
            return this;
        }

        /** Memory for the paged KV cache shared by all requests (default: chosen by the backend). */
        public Builder kvCacheBytes(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("kvCacheBytes must be positive, got " + bytes);
            }
            this.kvCacheBytes = bytes;
            return this;
        }

        /**
         * Most requests decoded speculatively at once (default: no limit). When more QSpec requests are
         * in flight, they take plain W4A16 steps — the same greedy tokens, the same sampling
         * distribution — because in large batches the verify pass costs more than drafting saves
         * (measured on an H100: QSpec at batch 8 ran at 0.7× W4A16; see docs/PERFORMANCE.md). 0 turns
         * speculation off.
         */
        public Builder speculationBatchLimit(int limit) {
            if (limit < 0) {
                throw new IllegalArgumentException("speculationBatchLimit must be >= 0, got " + limit);
            }
            this.speculationGate = SpeculationGate.upTo(limit);
            return this;
        }

        /**
         * Decides each step whether QSpec requests speculate or take plain W4A16 steps (default: always
         * speculate). {@link SpeculationGate#measured()} measures both and takes the faster; the outputs
         * are the same either way. Replaces a {@link #speculationBatchLimit}.
         */
        public Builder speculationGate(SpeculationGate gate) {
            this.speculationGate = Objects.requireNonNull(gate, "gate");
            return this;
        }

        public QSpecEngine build() {
            RunnerOptions options = new RunnerOptions(kvCacheBytes);
            ModelRunner runner = backendInstance != null ? backendInstance.open(model, options)
                    : Backends.open(backend, model, options);
            return new QSpecEngine(model, runner, speculationGate);
        }
    }
}
