package io.qspec.cpu;

import io.qspec.Precision;
import io.qspec.QSpecException;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.SequenceInput;
import io.qspec.format.TensorDecoding;
import io.qspec.kv.KvCache;
import io.qspec.model.LayerWeights;
import io.qspec.model.LinearWeight;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Runs a Llama-family model on the CPU: the reference implementation of the forward pass that
 * every backend follows (embedding → [RMSNorm → Q,K,V → RoPE → K/V write → causal GQA attention →
 * O → residual → RMSNorm → SwiGLU FFN → residual] × layers → RMSNorm → output projection).
 *
 * <p>All tokens of all sequences of a batch go through each linear layer as one matrix; attention
 * runs per token. Every step is row-independent, so a token's logits are bit-identical whether it
 * is decoded alone or verified among γ+1 others.
 */
final class CpuModelRunner implements ModelRunner {
    private final Model model;
    private final ModelConfig config;
    private final RotaryEmbedding rope;
    private final CpuKvBlockPool kvPool;
    private final Int4MatMul int4 = new Int4MatMul();
    private final DenseMatMul dense = new DenseMatMul();

    CpuModelRunner(Model model, long kvBudgetBytes) {
        this.model = model;
        this.config = model.config();
        this.rope = new RotaryEmbedding(config);
        this.kvPool = new CpuKvBlockPool(config.layers(), config.kvDim(), kvBudgetBytes);
    }

    @Override
    public Model model() {
        return model;
    }

    @Override
    public String backendName() {
        return "cpu";
    }

    @Override
    public KvCache newCache(int capacity) {
        if (capacity > config.contextLength()) {
            throw new IllegalArgumentException("cache capacity " + capacity + " exceeds the model's context length "
                    + config.contextLength());
        }
        return new CpuKvCache(kvPool, capacity);
    }

    @Override
    public long availableKvPositions() {
        return kvPool.availablePositions();
    }

    @Override
    public long totalKvPositions() {
        return kvPool.totalPositions();
    }

    @Override
    public Optional<String> unsupported(Precision precision) {
        if (precision == Precision.FP32 && !model.hasDenseWeights()) {
            return Optional.of("FP32 needs the unquantized weights, but " + model.name()
                    + " was loaded without them (by default they are kept only where the file stores every linear"
                    + " weight as F32); load it with LoadOptions.defaults().withDenseWeights(true)");
        }
        return Optional.empty();
    }

    @Override
    public Logits forward(List<SequenceInput> batch, Precision precision) {
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        unsupported(precision).ifPresent(why -> {
            throw new QSpecException(why);
        });
        Batch b = Batch.of(batch, config.vocabSize());
        int dim = config.dim();
        float[] x = new float[b.tokens * dim];
        float[] row = new float[dim];
        for (int t = 0; t < b.tokens; t++) {
            TensorDecoding.decodeRow(model.weights().tokenEmbedding(), b.token[t], row);
            System.arraycopy(row, 0, x, t * dim, dim);
        }
        for (int l = 0; l < config.layers(); l++) {
            layer(l, model.weights().layers().get(l), x, b, precision);
        }
        for (CpuKvCache cache : b.caches) {
            cache.advance(b.newTokens(cache));
        }
        float[] last = new float[b.logitRows * dim];
        for (int r = 0; r < b.logitRows; r++) {
            rmsNorm(x, b.logitToken[r] * dim, model.weights().finalNorm(), last, r * dim);
        }
        float[] logits = new float[b.logitRows * config.vocabSize()];
        linear(model.weights().output(), last, b.logitRows, logits, precision);
        return new Logits(logits, config.vocabSize(), b.firstLogitRow);
    }

    private void layer(int l, LayerWeights w, float[] x, Batch b, Precision precision) {
        int dim = config.dim();
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int n = b.tokens;
        float[] xb = new float[n * dim];
        for (int t = 0; t < n; t++) {
            rmsNorm(x, t * dim, w.attentionNorm(), xb, t * dim);
        }
        float[] q = new float[n * qDim];
        float[] k = new float[n * kvDim];
        float[] v = new float[n * kvDim];
        linear(w.wq(), xb, n, q, precision);
        linear(w.wk(), xb, n, k, precision);
        linear(w.wv(), xb, n, v, precision);

        // RoPE, then write every token's K/V before any attention reads them: a verify pass's
        // queries must see the W4A16 entries of its own earlier tokens, not the draft's.
        float[] cos = new float[config.headDim() / 2];
        float[] sin = new float[config.headDim() / 2];
        for (int t = 0; t < n; t++) {
            rope.angles(b.position[t], cos, sin);
            rope.rotate(q, t * qDim, config.heads(), cos, sin);
            rope.rotate(k, t * kvDim, config.kvHeads(), cos, sin);
            CpuKvCache cache = b.cacheOf[t];
            int at = cache.offset(b.position[t]);
            System.arraycopy(k, t * kvDim, cache.keys(l), at, kvDim);
            System.arraycopy(v, t * kvDim, cache.values(l), at, kvDim);
        }

        float[] attended = new float[n * qDim];
        IntStream.range(0, n * config.heads()).parallel().forEach(task -> {
            int t = task / config.heads();
            attend(l, b.cacheOf[t], b.position[t], q, t * qDim, task % config.heads(), attended);
        });
        float[] o = new float[n * dim];
        linear(w.wo(), attended, n, o, precision);
        addInPlace(x, o);

        for (int t = 0; t < n; t++) {
            rmsNorm(x, t * dim, w.ffnNorm(), xb, t * dim);
        }
        int hidden = config.hiddenDim();
        float[] gate = new float[n * hidden];
        float[] up = new float[n * hidden];
        linear(w.gate(), xb, n, gate, precision);
        linear(w.up(), xb, n, up, precision);
        for (int i = 0; i < gate.length; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
        linear(w.down(), gate, n, o, precision);
        addInPlace(x, o);
    }

    /** Causal attention of one head of one query token over positions [0, position] of its sequence. */
    private void attend(int layer, CpuKvCache cache, int position, float[] q, int qOffset, int head, float[] out) {
        int headDim = config.headDim();
        int kvHead = head / (config.heads() / config.kvHeads());
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        int qBase = qOffset + head * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] scores = new float[position + 1];
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= position; j++) {
            int kBase = cache.offset(j) + kvHead * headDim;
            float dot = 0f;
            for (int i = 0; i < headDim; i++) {
                dot += q[qBase + i] * keys[kBase + i];
            }
            scores[j] = dot * scale;
            max = Math.max(max, scores[j]);
        }
        float sum = 0f;
        for (int j = 0; j <= position; j++) {
            scores[j] = (float) Math.exp(scores[j] - max);
            sum += scores[j];
        }
        int outBase = qBase;
        for (int i = 0; i < headDim; i++) {
            out[outBase + i] = 0f;
        }
        for (int j = 0; j <= position; j++) {
            float weight = scores[j] / sum;
            int vBase = cache.offset(j) + kvHead * headDim;
            for (int i = 0; i < headDim; i++) {
                out[outBase + i] += weight * values[vBase + i];
            }
        }
    }

    private void linear(LinearWeight w, float[] x, int m, float[] y, Precision precision) {
        if (precision == Precision.FP32) {
            dense.multiply(w.dense().orElseThrow(), x, m, y);
        } else {
            int4.multiply(w.int4(), x, m, y, precision);
        }
    }

    /** True RMSNorm: {@code x / sqrt(mean(x²) + eps) * w} (no mean subtraction, unlike the official QSpec code). */
    private void rmsNorm(float[] x, int offset, float[] weight, float[] out, int outOffset) {
        int dim = weight.length;
        double sumSquares = 0;
        for (int i = 0; i < dim; i++) {
            float v = x[offset + i];
            sumSquares += v * v;
        }
        float inv = (float) (1.0 / Math.sqrt(sumSquares / dim + config.rmsNormEps()));
        for (int i = 0; i < dim; i++) {
            out[outOffset + i] = x[offset + i] * inv * weight[i];
        }
    }

    private static void addInPlace(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }

    @Override
    public void close() {
        // nothing to release: the weights belong to the Model, caches to their users
    }

    /** A batch flattened to tokens: which sequence, position and cache each token has, and which rows want logits. */
    private static final class Batch {
        int tokens;
        int[] token;
        int[] position;
        CpuKvCache[] cacheOf;
        List<CpuKvCache> caches;
        int logitRows;
        int[] logitToken;
        int[] firstLogitRow;
        private java.util.Map<CpuKvCache, Integer> counts;

        static Batch of(List<SequenceInput> inputs, int vocab) {
            Batch b = new Batch();
            b.tokens = inputs.stream().mapToInt(s -> s.tokens().length).sum();
            b.logitRows = inputs.stream().mapToInt(SequenceInput::logitRows).sum();
            b.token = new int[b.tokens];
            b.position = new int[b.tokens];
            b.cacheOf = new CpuKvCache[b.tokens];
            b.logitToken = new int[b.logitRows];
            b.firstLogitRow = new int[inputs.size()];
            b.counts = new java.util.IdentityHashMap<>();
            var caches = new java.util.ArrayList<CpuKvCache>();
            int t = 0;
            int r = 0;
            for (int s = 0; s < inputs.size(); s++) {
                SequenceInput in = inputs.get(s);
                if (!(in.cache() instanceof CpuKvCache cache)) {
                    throw new IllegalArgumentException("sequence " + s + " has a cache from another backend: " + in.cache());
                }
                if (b.counts.containsKey(cache)) {
                    throw new IllegalArgumentException("sequence " + s + " uses a cache that appears twice in the batch");
                }
                cache.ensureRoom(in.tokens().length);
                b.counts.put(cache, in.tokens().length);
                caches.add(cache);
                b.firstLogitRow[s] = r;
                int[] ids = in.tokens();
                for (int i = 0; i < ids.length; i++, t++) {
                    if (ids[i] < 0 || ids[i] >= vocab) {
                        throw new IllegalArgumentException("token id " + ids[i] + " outside the vocabulary [0, " + vocab + ")");
                    }
                    b.token[t] = ids[i];
                    b.position[t] = cache.length() + i;
                    b.cacheOf[t] = cache;
                    if (in.allLogits() || i == ids.length - 1) {
                        b.logitToken[r++] = t;
                    }
                }
            }
            b.caches = caches;
            return b;
        }

        int newTokens(CpuKvCache cache) {
            return counts.get(cache);
        }
    }
}
