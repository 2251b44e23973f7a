package io.qspec.engine;

import io.qspec.Precision;
import io.qspec.backend.Backend;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.RunnerOptions;
import io.qspec.backend.SequenceInput;
import io.qspec.kv.KvCache;
import io.qspec.model.Model;
import java.util.List;

/**
 * A test backend whose "model" emits a fixed script: the logits at absolute position {@code p}
 * put all weight on {@code script[p - promptLength + 1]} (in every precision, so every draft is
 * accepted). It lets engine tests choose the exact bytes that stream out.
 */
final class ScriptedBackend implements Backend {
    private final int[] script;
    private final int promptLength;

    ScriptedBackend(int[] script, int promptLength) {
        this.script = script.clone();
        this.promptLength = promptLength;
    }

    @Override
    public String name() {
        return "scripted";
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
        int vocab = model.config().vocabSize();
        return new ModelRunner() {
            private long used;

            @Override
            public Model model() {
                return model;
            }

            @Override
            public String backendName() {
                return "scripted";
            }

            @Override
            public KvCache newCache(int capacity) {
                used += capacity;
                return new CountingCache(capacity, () -> used -= capacity);
            }

            @Override
            public long availableKvPositions() {
                return totalKvPositions() - used;
            }

            @Override
            public long totalKvPositions() {
                return 1 << 20;
            }

            @Override
            public Logits forward(List<SequenceInput> batch, Precision precision) {
                int rows = batch.stream().mapToInt(SequenceInput::logitRows).sum();
                float[] data = new float[rows * vocab];
                int[] first = new int[batch.size()];
                int r = 0;
                for (int s = 0; s < batch.size(); s++) {
                    SequenceInput in = batch.get(s);
                    CountingCache cache = (CountingCache) in.cache();
                    first[s] = r;
                    int n = in.tokens().length;
                    for (int i = in.allLogits() ? 0 : n - 1; i < n; i++, r++) {
                        int index = cache.length() + i - promptLength + 1;
                        int token = script[Math.min(Math.max(index, 0), script.length - 1)];
                        data[r * vocab + token] = 10f;
                    }
                    cache.length += n;
                }
                return new Logits(data, vocab, first);
            }

            @Override
            public void close() {
            }
        };
    }

    /** A cache that only counts positions. */
    private static final class CountingCache implements KvCache {
        private final int capacity;
        private final Runnable onClose;
        int length;
        private boolean closed;

        CountingCache(int capacity, Runnable onClose) {
            this.capacity = capacity;
            this.onClose = onClose;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public int capacity() {
            return capacity;
        }

        @Override
        public void truncate(int newLength) {
            length = newLength;
        }

        @Override
        public int layers() {
            return 0;
        }

        @Override
        public int kvDim() {
            return 0;
        }

        @Override
        public void readKey(int layer, int position, float[] dst) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void readValue(int layer, int position, float[] dst) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                onClose.run();
            }
        }
    }
}
