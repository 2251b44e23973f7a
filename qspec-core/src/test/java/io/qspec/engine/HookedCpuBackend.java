package io.qspec.engine;

import io.qspec.Precision;
import io.qspec.backend.Backend;
import io.qspec.backend.GreedyTokens;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.RunnerOptions;
import io.qspec.backend.SequenceInput;
import io.qspec.cpu.CpuBackend;
import io.qspec.kv.KvCache;
import io.qspec.model.Model;
import io.qspec.sampling.TokenDraw;
import java.util.List;

/**
 * The CPU backend, with a hook called before each pass the engine asks of it: to count passes, or to fail some.
 * Rejection rounds are the host's default, built on {@code forward}, so their passes meet the hook too.
 */
final class HookedCpuBackend implements Backend {
    /** Which of the runner's pass methods the engine called. */
    enum PassKind { LOGITS, GREEDY, SAMPLED }

    @FunctionalInterface
    interface Hook {
        /** Called before the pass runs; an exception thrown here is the pass's. */
        void beforePass(PassKind kind, List<SequenceInput> batch);
    }

    private final CpuBackend cpu = new CpuBackend();
    private final Hook hook;

    HookedCpuBackend(Hook hook) {
        this.hook = hook;
    }

    @Override
    public String name() {
        return "hooked-cpu";
    }

    @Override
    public int priority() {
        return -1;
    }

    @Override
    public Availability availability() {
        return Availability.yes("test");
    }

    @Override
    public ModelRunner open(Model model, RunnerOptions options) {
        ModelRunner inner = cpu.open(model, options);
        return new ModelRunner() {
            @Override
            public Model model() {
                return inner.model();
            }

            @Override
            public String backendName() {
                return "hooked-cpu";
            }

            @Override
            public KvCache newCache(int capacity) {
                return inner.newCache(capacity);
            }

            @Override
            public long availableKvPositions() {
                return inner.availableKvPositions();
            }

            @Override
            public long totalKvPositions() {
                return inner.totalKvPositions();
            }

            @Override
            public Logits forward(List<SequenceInput> batch, Precision precision) {
                hook.beforePass(PassKind.LOGITS, batch);
                return inner.forward(batch, precision);
            }

            @Override
            public GreedyTokens forwardGreedy(List<SequenceInput> batch, Precision precision) {
                hook.beforePass(PassKind.GREEDY, batch);
                return inner.forwardGreedy(batch, precision);
            }

            @Override
            public int[] forwardSampled(List<SequenceInput> batch, Precision precision, List<TokenDraw> draws) {
                hook.beforePass(PassKind.SAMPLED, batch);
                return inner.forwardSampled(batch, precision, draws);
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }
}
