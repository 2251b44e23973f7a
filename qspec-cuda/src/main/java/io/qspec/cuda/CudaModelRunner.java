package io.qspec.cuda;

import io.qspec.Precision;
import io.qspec.QSpecException;
import io.qspec.backend.GreedyTokens;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.RejectionRound;
import io.qspec.backend.RunnerOptions;
import io.qspec.backend.SequenceInput;
import io.qspec.cuda.ffm.QSpecKernels;
import io.qspec.kv.KvCache;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import io.qspec.sampling.TokenDraw;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.function.Consumer;

/**
 * A model on the GPU. {@link #forward} runs the Llama decoder with QSpec's kernels: the verify
 * precision (W4A16) feeds fp16 activations to the INT4 GEMM; the draft precisions (W4A8, W4A4)
 * quantize activations per token and group and use the integer GEMM. Both read the same uploaded
 * INT4 bytes and write the same paged KV cache.
 *
 * <p>{@link Precision#FP32} is the W16A16 baseline here: the W4A16 pass with cuBLAS's fp16 GEMM on
 * {@link DenseWeights}, a dense fp16 copy of the weights built on the first FP32 pass (fp16 activations,
 * fp32 accumulation; everything else as in W4A16).
 *
 * <p>Not thread-safe beyond what {@link ModelRunner} promises: calls are serialised on one stream.
 * Device memory is released by {@link #close()}, or by a cleaner if the runner is dropped unclosed.
 */
final class CudaModelRunner implements ModelRunner {
    /** Positions per KV block. */
    public static final int BLOCK_SIZE = 16;
    private static final System.Logger LOG = System.getLogger(CudaModelRunner.class.getName());
    /** Share of the free memory left after the weights that the KV pool takes when no budget is given. */
    private static final double KV_MEMORY_SHARE = 0.5;
    /** By default the pool holds at most this many full-context sequences. */
    private static final int DEFAULT_MAX_SEQUENCES = 8;
    /** System property that turns CUDA graphs off ({@code -Dqspec.cuda.graphs=false}), e.g. to compare. */
    public static final String GRAPHS_PROPERTY = "qspec.cuda.graphs";
    private static final boolean GRAPHS_ENABLED = Boolean.parseBoolean(System.getProperty(GRAPHS_PROPERTY, "true"));
    /**
     * System property that turns on RoPE, the KV write and attention in one kernel for passes of one token per
     * sequence ({@code -Dqspec.cuda.fusedRopeAttention=true}; read when a runner is built). Off by default until it
     * has been measured on a GPU: it gives the same bits as the two kernels (native/test/qspec_test.cu checks that
     * on a device), one launch a layer fewer.
     */
    public static final String FUSED_ROPE_ATTENTION_PROPERTY = "qspec.cuda.fusedRopeAttention";
    /**
     * System property that runs each block's second and third RMSNorms in the residual-adding GEMVs before them
     * ({@code -Dqspec.cuda.normTail=true}; read when a runner is built): in decode passes (up to 4 tokens) the last CTA
     * of the wo and down GEMVs normalises the residual it has just added to, one launch fewer each. Off by default
     * until it pays: it gives the bits of the standalone norm (native/test/qspec_test.cu, on the H100), but its one
     * normalising CTA made the wo and down GEMVs 2.5-17 µs slower than GEMV plus norm kernel (docs/KERNELS.md).
     */
    public static final String NORM_TAIL_PROPERTY = "qspec.cuda.normTail";
    /**
     * System property that runs W4A16's SwiGLU in the gate|up GEMV (on unless {@code -Dqspec.cuda.fusedSwiglu=false};
     * read when a runner is built): in decode passes (up to 8 tokens) each CTA of the GEMV takes both the gate and the
     * up rows of its hidden units and stores their SwiGLU, one launch fewer, with the bits of the SwiGLU kernel
     * (native/test/qspec_test.cu). On the H100 the gate|up GEMV and SwiGLU took 24.4-25.4 µs instead of 25.7-27.1.
     */
    public static final String FUSED_SWIGLU_PROPERTY = "qspec.cuda.fusedSwiglu";
    /**
     * System property that runs the RMSNorms in the GEMVs after them ({@code -Dqspec.cuda.normHead=true}; read when a
     * runner is built): q|k|v, gate|up and the output projection take the residual rows and, in decode passes (up to 2
     * tokens), each CTA of the GEMV normalises them (and, for the draft, quantizes them) into its shared memory, one
     * launch fewer a norm, with the bits of the norm kernels (native/test/qspec_test.cu); larger passes launch the norm
     * kernel. Off by default: on the H100 the GEMVs with the head took 0.4-0.9 us less than norm kernel plus GEMV, but
     * decode at batch 1 was no faster end to end (docs/KERNELS.md, "The norm head").
     */
    public static final String NORM_HEAD_PROPERTY = "qspec.cuda.normHead";
    /**
     * System property for RoPE and the KV write in the q|k|v GEMV (on by default; {@code -Dqspec.cuda.fusedRopeKv=false}
     * turns it off; read when a runner is built): in decode passes (up to 8 tokens) the threads of the INT4 q|k|v
     * GEMV that hold a RoPE pair's sums rotate it and store q, k and v where the RoPE kernel would, one launch fewer
     * a layer, with the kernel's bits (native/test/qspec_test.cu, emulate_epilogues.py). With it, models with
     * half-split pairs are uploaded with their q and k rows interleaved ({@link DeviceModel}), which keeps every q·k
     * product's terms, summed in another order. Decode 2-3 % faster end to end on an H100, 3-6 % on an H200
     * (docs/KERNELS.md, session 46).
     */
    public static final String FUSED_ROPE_KV_PROPERTY = "qspec.cuda.fusedRopeKv";
    /**
     * System property for the GEMMs' token orders (on by default; {@code -Dqspec.cuda.tokenOrders=false} turns it off;
     * read when a runner is built): the norms, quantizers and SwiGLU write each GEMM's input in the order the GEMM
     * reads without a pass that permutes it ({@link PassTokenOrders}; ABI 13), on sm_90a the MMA order of the warpgroup
     * kernels' builds that the rules take at 33-256 tokens. Off, every input is written in row order and those GEMMs
     * permute it first, as before: the same bits.
     */
    public static final String TOKEN_ORDERS_PROPERTY = "qspec.cuda.tokenOrders";
    /** Narrowest block table; wider ones double, so a decode step's graph changes only every few hundred tokens. */
    private static final int MIN_TABLE_WIDTH = 8;
    /**
     * Passes of up to 16 tokens (decode of a few sequences, a verify of one) may split long attention contexts over
     * more blocks, and so may larger passes at long contexts (up to 64 tokens: a verify at batch 16, decode of 64
     * sequences); the workspace for that is sized once, for at most {@link #ATTENTION_WORKSPACE_BYTES} beyond what
     * 16 tokens need.
     */
    private static final int ATTENTION_SPLIT_TOKENS = 16;
    private static final int ATTENTION_SPLIT_TOKENS_MAX = 64;
    private static final long ATTENTION_WORKSPACE_BYTES = 64L << 20;

    private final Model model;
    private final ModelConfig config;
    private final DeviceInfo device;
    private final DeviceMemory memory;
    private final CudaStream stream;
    private final Kernels kernels;
    private final DeviceModel weights;
    private final KvBlockPool pool;
    private final WorkBuffers work;
    private final CapturedPasses passes;
    private final DeviceSampler sampler;
    private final DeviceRejectionSampler rejection;
    private final int ropeStyle;
    /** The decode tiles' threshold at this model's heads (Kernels#decodeTilesFrom), for the passes' context bounds. */
    private final int decodeTilesFrom;
    private final boolean fusedRopeAttention = Boolean.getBoolean(FUSED_ROPE_ATTENTION_PROPERTY);
    private final boolean normTail = Boolean.getBoolean(NORM_TAIL_PROPERTY);
    private final boolean fusedSwiglu = Boolean.parseBoolean(System.getProperty(FUSED_SWIGLU_PROPERTY, "true"));
    private final boolean normHead = Boolean.getBoolean(NORM_HEAD_PROPERTY);
    private final boolean fusedRopeKv = Boolean.parseBoolean(System.getProperty(FUSED_ROPE_KV_PROPERTY, "true"));
    private final boolean tokenOrders = Boolean.parseBoolean(System.getProperty(TOKEN_ORDERS_PROPERTY, "true"));
    /** The W16A16 weights and cuBLAS handle; null until the first FP32 pass. */
    private DenseWeights dense;
    private boolean closed;

    CudaModelRunner(Model model, DeviceInfo device, RunnerOptions options) {
        this(model, device, options, GRAPHS_ENABLED);
    }

    /** With {@code graphs} false every pass launches its kernels one by one (tests compare the two). */
    CudaModelRunner(Model model, DeviceInfo device, RunnerOptions options, boolean graphs) {
        KernelLimits.requireSupported(model.name(), model.config());
        this.model = model;
        this.config = model.config();
        this.device = device;
        this.stream = new CudaStream();
        this.memory = new DeviceMemory(stream);
        try {
            this.kernels = new Kernels(stream.handle());
            this.weights = DeviceModel.upload(model, memory, fusedRopeKv);
            this.pool = new KvBlockPool(memory, config.layers(), kvBlocks(options.kvCacheBytes()), BLOCK_SIZE,
                    config.heads(), config.kvHeads(), config.headDim());
            this.work = new WorkBuffers(memory, config, weights.maxPaddedCols, weights.maxGroupsPerRow,
                    attentionWorkspaceBytes(config));
            this.passes = new CapturedPasses(stream.handle(), graphs);
            this.sampler = new DeviceSampler(memory, kernels, config.vocabSize());
            this.rejection = new DeviceRejectionSampler(memory, kernels, sampler, this::withLogits, this::downloadInts,
                    config.vocabSize());
            this.ropeStyle = RopeFrequencies.styleCode(weights.ropeStyle);
            this.decodeTilesFrom = Kernels.decodeTilesFrom(config.heads(), config.kvHeads(), config.headDim());
            stream.synchronize();  // a failed upload is this open's failure, not the first pass's
        } catch (RuntimeException | Error e) {
            try {
                stream.synchronize();  // queued uploads finish before their memory goes
            } catch (CudaException ignored) {
                // the open has failed already; what remains is to release
            } finally {
                try {
                    memory.close();
                } finally {
                    stream.close();
                }
            }
            throw e;
        }
    }

    /** Blocks for a budget of {@code budgetBytes}, or when 0, for part of the free GPU memory. */
    private int kvBlocks(long budgetBytes) {
        long bytesPerBlock = (long) config.layers() * 2 * BLOCK_SIZE * config.kvDim() * 2;
        if (budgetBytes > 0) {
            if (budgetBytes < bytesPerBlock) {
                throw new IllegalArgumentException("KV budget of " + budgetBytes + " bytes is smaller than one block ("
                        + bytesPerBlock + " bytes)");
            }
            return (int) Math.min(budgetBytes / bytesPerBlock, Integer.MAX_VALUE / 2);
        }
        long wanted = (long) Math.ceilDiv(config.contextLength(), BLOCK_SIZE) * DEFAULT_MAX_SEQUENCES;
        long affordable = (long) (freeMemory() * KV_MEMORY_SHARE) / bytesPerBlock;
        return (int) Math.max(1, Math.min(Math.min(wanted, affordable), Integer.MAX_VALUE / 2));
    }

    private static long freeMemory() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            CudaCalls.check(io.qspec.cuda.ffm.CudaRuntime.cudaMemGetInfo(free, total), "cudaMemGetInfo");
            return free.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    @Override
    public Model model() {
        return model;
    }

    @Override
    public String backendName() {
        return "cuda";
    }

    /** The GPU this runner uses. */
    public DeviceInfo device() {
        return device;
    }

    /** The paged KV store (for capacity reporting). */
    public KvBlockPool kvPool() {
        return pool;
    }

    @Override
    public synchronized KvCache newCache(int capacity) {
        requireOpen();
        if (capacity <= 0 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("cache capacity " + capacity + " outside [1, " + config.contextLength() + "]");
        }
        return new CudaKvCache(this, pool, capacity);
    }

    @Override
    public long availableKvPositions() {
        return (long) pool.freeBlocks() * BLOCK_SIZE;
    }

    @Override
    public long totalKvPositions() {
        return (long) pool.blocks() * BLOCK_SIZE;
    }

    @Override
    public synchronized Logits forward(List<SequenceInput> batch, Precision precision) {
        Pass pass = enqueue(batch, precision);
        float[] logits = downloadFloats(work.logits, (long) pass.rows() * config.vocabSize());
        pass.advanceCaches();
        return new Logits(logits, config.vocabSize(), pass.plan().firstLogitRow());
    }

    /** As {@link #forward}, with the argmax taken on the GPU: 4 bytes per row cross to the host, not a vocabulary. */
    @Override
    public synchronized GreedyTokens forwardGreedy(List<SequenceInput> batch, Precision precision) {
        Pass pass = enqueue(batch, precision);
        kernels.argmax(work.logits, pass.rows(), config.vocabSize(), work.argmax);
        int[] tokens = downloadInts(work.argmax, pass.rows());
        pass.advanceCaches();
        return new GreedyTokens(tokens, pass.plan().firstLogitRow());
    }

    /**
     * As {@link #forward}, with every sequence's token drawn on the GPU from its last logit row
     * ({@code qspec_sample}: the host sampler's filters, fixed-point masses): the draws' parameters go
     * up, 4 bytes per sequence come back, and no logit row crosses to the host.
     */
    @Override
    public synchronized int[] forwardSampled(List<SequenceInput> batch, Precision precision, List<TokenDraw> draws) {
        if (!samplesOnDevice()) {
            return ModelRunner.super.forwardSampled(batch, precision, draws);
        }
        if (draws.size() != batch.size()) {
            throw new IllegalArgumentException(draws.size() + " draws for a batch of " + batch.size() + " sequences");
        }
        sampler.validate(draws);
        Pass pass = enqueue(batch, precision);
        int[] first = pass.plan().firstLogitRow();
        int[] lastRow = new int[batch.size()];
        for (int s = 0; s < lastRow.length; s++) {
            lastRow[s] = (s + 1 < first.length ? first[s + 1] : pass.rows()) - 1;
        }
        DeviceBuffer tokens = sampler.enqueue(work.logits, pass.rows(), lastRow, draws);
        int[] drawn = downloadInts(tokens, draws.size());
        pass.advanceCaches();
        return DeviceSampler.checked(drawn);
    }

    /**
     * A speculative round rejection-sampled on the GPU ({@link DeviceRejectionSampler}): the draft and
     * verify distributions stay in device memory and only token ids come back.
     */
    @Override
    public synchronized RejectionRound newRejectionRound(int lanes, int maxGamma) {
        requireOpen();
        return samplesOnDevice() ? rejection.newRound(lanes, maxGamma) : ModelRunner.super.newRejectionRound(lanes, maxGamma);
    }

    /** Whether the sampling kernels take this vocabulary (else draws and rounds are decided on the host). */
    private boolean samplesOnDevice() {
        return config.vocabSize() <= QSpecKernels.MAX_SAMPLING_VOCAB;
    }

    /**
     * Queues {@code batch}'s pass, hands its logits to {@code use} (which queues kernels that read them and
     * reads back their results), then advances the caches.
     */
    private synchronized <T> T withLogits(List<SequenceInput> batch, Precision precision,
                                          DeviceRejectionSampler.LogitsReader<T> use) {
        Pass pass = enqueue(batch, precision);
        T result = use.read(work.logits, pass.rows(), pass.plan().firstLogitRow());
        pass.advanceCaches();
        return result;
    }

    /** A queued pass: its plan, its logit rows, and the caches to advance once its results are read. */
    private record Pass(List<CudaKvCache> caches, BatchPlan plan, int rows) {
        void advanceCaches() {
            for (int s = 0; s < caches.size(); s++) {
                caches.get(s).advanceTo(plan.end(s));
            }
        }
    }

    /** Checks {@code batch}, uploads its indices and queues its forward pass (replaying a captured graph if one fits). */
    private Pass enqueue(List<SequenceInput> batch, Precision precision) {
        requireOpen();
        List<CudaKvCache> caches = caches(batch);
        List<BatchPlan.SequenceShape> shapes = new ArrayList<>(batch.size());
        for (int s = 0; s < batch.size(); s++) {
            SequenceInput in = batch.get(s);
            CudaKvCache cache = caches.get(s);
            shapes.add(new BatchPlan.SequenceShape(cache.length(), cache.capacity(), in.tokens(), in.allLogits()));
        }
        BatchPlan plan = BatchPlan.of(shapes, config.vocabSize());
        int[][] blockIds = new int[batch.size()][];
        for (int s = 0; s < batch.size(); s++) {
            blockIds[s] = caches.get(s).blocksFor(plan.end(s));
        }
        int width = tableWidth(plan.maxBlocks(BLOCK_SIZE));
        int[] table = plan.blockTables(blockIds, BLOCK_SIZE, pool.blocks(), width);
        int t = plan.tokenCount();
        if (precision == Precision.FP32 && dense == null) {
            // the first FP32 pass builds the W16A16 weights, once its inputs have passed the checks above
            dense = DenseWeights.build(model, weights, kernels, stream);
        }
        int[] logitSources = plan.logitSourceRows();
        int rows = logitSources.length;
        if (work.wouldGrow(t, rows, table.length)) {
            // before anything moves: graphs over the old buffers must not outlive a growth that fails half way
            passes.invalidate();
            work.ensure(t, rows, table.length);
        }

        uploadInts(plan.tokens(), work.tokenIds);
        uploadInts(plan.tokenSeq(), work.tokenSeq);
        uploadInts(plan.tokenPos(), work.tokenPos);
        uploadInts(table, work.blockTables);
        int run = plan.attentionRun();
        ContextBounds contexts = ContextBounds.of(decodeTilesFrom, plan.shortestContext(), plan.longestContext());
        BatchBuffers indices = new BatchBuffers(t, plan.sequenceCount(), width, work.tokenIds, work.tokenSeq,
                work.tokenPos, work.blockTables, run, contexts);
        CapturedPasses.Shape shape = new CapturedPasses.Shape(precision, t, plan.sequenceCount(), width, run,
                contexts, logitSources);
        passes.run(shape, () -> enqueuePass(indices, logitSources, precision));
        return new Pass(caches, plan, rows);
    }

    /** Queues one whole forward pass on the stream (no host synchronization: it may be captured into a graph). */
    private void enqueuePass(BatchBuffers indices, int[] logitSources, Precision precision) {
        int t = indices.tokens();
        kernels.embedding(work.tokenIds, weights.embedding, config.vocabSize(), work.residual, t, config.dim());
        List<DeviceModel.Layer> layers = weights.layers;
        DeviceModel.Layer first = layers.get(0);
        PassTokenOrders orders = tokenOrders(t, logitSources.length, precision);
        if (!headsNormalise(precision)) {
            normalise(first.attentionNorm(), first.wqkv().group(), t, precision, orders.qkv());
        }
        for (int l = 0; l < layers.size(); l++) {
            layer(l, layers.get(l), l + 1 < layers.size() ? layers.get(l + 1) : null, indices, precision, orders);
        }
        gatherRows(logitSources);
        project(weights.finalNorm, weights.output, work.selectedRows, logitSources.length, work.logits, precision,
                orders.output());
    }

    /** Block-table width for a pass needing {@code blocks}: a power of two, at most the context's blocks. */
    private int tableWidth(int blocks) {
        int contextBlocks = Math.ceilDiv(config.contextLength(), BLOCK_SIZE);
        int width = Math.max(MIN_TABLE_WIDTH, Integer.highestOneBit(Math.max(1, blocks - 1)) << 1);
        return Math.max(blocks, Math.min(width, contextBlocks));
    }

    /** Whether decode passes take the fused RoPE + attention kernel ({@link #FUSED_ROPE_ATTENTION_PROPERTY}). */
    boolean fusesRopeAttention() {
        return fusedRopeAttention;
    }

    /** Graphs held (for tests and diagnostics). */
    int capturedGraphs() {
        return passes.size();
    }

    /** Whether the wo and down GEMVs run the next RMSNorm ({@link #NORM_TAIL_PROPERTY}). */
    boolean runsNormTails() {
        return normTail;
    }

    /** Whether the GEMVs after the RMSNorms normalise their own input ({@link #NORM_HEAD_PROPERTY}): INT4 weights. */
    boolean headsNormalise(Precision precision) {
        return normHead && precision.usesInt4Weights();
    }

    /** Whether the INT4 q|k|v GEMMs run RoPE and the KV write ({@link #FUSED_ROPE_KV_PROPERTY}). */
    boolean fusesRopeKv() {
        return fusedRopeKv;
    }

    /**
     * The token order of each GEMM of a pass of {@code tokens} tokens, {@code logitRows} of which get logits
     * ({@link #TOKEN_ORDERS_PROPERTY}; all row order when it is off).
     */
    PassTokenOrders tokenOrders(int tokens, int logitRows, Precision precision) {
        if (!tokenOrders) {
            return PassTokenOrders.ROW;
        }
        return PassTokenOrders.of(kernels, weights.layers.get(0), weights.output, tokens, logitRows, precision,
                headsNormalise(precision), normTail);
    }

    /** Whether W4A16's gate|up GEMV runs the SwiGLU ({@link #FUSED_SWIGLU_PROPERTY}). */
    boolean fusesSwiglu() {
        return fusedSwiglu;
    }

    /** The attention workspace: for 16 tokens at the longest context, or for as many up to 64 as 64 MiB hold. */
    private static long attentionWorkspaceBytes(ModelConfig config) {
        int context = Math.ceilDiv(config.contextLength(), BLOCK_SIZE) * BLOCK_SIZE;
        long perToken = QSpecKernels.qspec_attention_workspace_bytes(1, config.heads(), config.headDim(), context);
        int tokens = (int) Math.clamp(ATTENTION_WORKSPACE_BYTES / Math.max(1, perToken), ATTENTION_SPLIT_TOKENS,
                ATTENTION_SPLIT_TOKENS_MAX);
        return QSpecKernels.qspec_attention_workspace_bytes(tokens, config.heads(), config.headDim(), context);
    }

    /**
     * One transformer block over all T tokens of the pass, from its normalised input in the normed buffers; leaves
     * the next block's normalised input there ({@code next} null: the last block, whose output the final norm takes).
     * Where the GEMVs normalise their own input ({@link #headsNormalise}) the block starts from the residual and
     * leaves it, and its q|k|v and gate|up GEMVs run the attention and feed-forward norms. {@code orders}: the order in
     * which each GEMM reads its tokens, and so the one its input's writer writes.
     */
    private void layer(int l, DeviceModel.Layer w, DeviceModel.Layer next, BatchBuffers indices, Precision precision,
                       PassTokenOrders orders) {
        int t = indices.tokens();
        int qDim = config.qDim();
        int hidden = config.hiddenDim();
        boolean heads = headsNormalise(precision);

        // attention: q|k|v (one stacked GEMM) → RoPE + cache write (in the GEMM's epilogue where enabled) →
        // attention (with RoPE for decode passes where that is enabled) → wo, adding to the residual, then the
        // feed-forward norm
        int qkvDim = qDim + 2 * config.kvDim();
        // one token per sequence: nothing reads another's k, v (the library may leave the pass to the two calls)
        boolean ropeWithAttention = fusedRopeAttention && t == indices.sequences();
        boolean ropeWithQkv = fusedRopeKv && !heads && !ropeWithAttention && precision.usesInt4Weights();
        if (heads) {
            linearFromResidual(work.residual, w.attentionNorm(), w.wqkv(), work.qkv, t, precision);
        } else if (ropeWithQkv && precision.quantizesActivations()) {
            kernels.w4axGemmRopeKv(work.normedQuantized, work.normedScales, w.wqkv(), precision.activationBits(),
                    work.qkv, work.q, pool, l, indices, weights.invFreq, ropeStyle, orders.qkv());
        } else if (ropeWithQkv) {
            kernels.w4a16GemmRopeKv(work.normedHalf, config.dim(), w.wqkv(), work.qkv, work.q, pool, l, indices,
                    weights.invFreq, ropeStyle, orders.qkv());
        } else {
            linearFromNormed(w.wqkv(), work.qkv, t, precision, orders.qkv());
        }
        boolean attended = ropeWithAttention && kernels.ropeAttention(work.qkv, qkvDim, pool, l, indices,
                weights.invFreq, ropeStyle, work.attentionWorkspace, work.half);
        if (!attended) {
            if (!ropeWithQkv) {
                kernels.ropeWriteKv(work.qkv, qkvDim, work.q, pool, l, indices, weights.invFreq, ropeStyle);
            }
            kernels.attention(work.q, pool, l, indices, work.attentionWorkspace, work.half);
        }
        if (precision.quantizesActivations()) {
            kernels.quantizeActivations(work.half, qDim, t, w.wo().cols(), w.wo().group(), precision.activationBits(),
                    work.quantized, work.quantScales, orders.o());
        }
        addToResidualThenNormalise(work.half, qDim, w.wo(), t, precision, heads ? null : w.ffnNorm(),
                w.gateUp().group(), orders.o(), orders.gateUp());

        // feed-forward: gate|up (one stacked GEMM) → SwiGLU → down, adding to the residual, then the next block's norm
        if (heads && fusedSwiglu && precision == Precision.W4A16) {
            kernels.rmsnormW4a16GemmSwiglu(work.residual, w.ffnNorm(), config.rmsNormEps(), work.normedHalf, w.gateUp(),
                    work.gateUp, t, work.half);
        } else if (fusedSwiglu && precision == Precision.W4A16) {
            kernels.w4a16GemmSwiglu(work.normedHalf, config.dim(), w.gateUp(), work.gateUp, t, work.half,
                    orders.gateUp(), orders.down());
        } else {
            if (heads) {
                linearFromResidual(work.residual, w.ffnNorm(), w.gateUp(), work.gateUp, t, precision);
            } else {
                linearFromNormed(w.gateUp(), work.gateUp, t, precision, orders.gateUp());
            }
            if (precision.quantizesActivations()) {  // SwiGLU and the down projection's quantizer in one kernel
                kernels.swigluQuantize(work.gateUp, 2 * hidden, t, hidden, w.down().group(), precision.activationBits(),
                        work.quantized, work.quantScales, orders.down());
            } else {
                kernels.swigluF16(work.gateUp, 2 * hidden, work.half, t, hidden, orders.down());
            }
        }
        addToResidualThenNormalise(work.half, hidden, w.down(), t, precision,
                next == null || heads ? null : next.attentionNorm(), next == null ? 0 : next.wqkv().group(),
                orders.down(), orders.qkv());
    }

    /**
     * {@code y = rmsnorm(rows) W^T} in one call that normalises (and for the draft quantizes) the fp32 {@code rows}
     * itself, with the bits of the norm kernel followed by {@link #linearFromNormed}; the normed buffers are its scratch.
     */
    private void linearFromResidual(DeviceBuffer rows, DeviceBuffer gain, DeviceLinear w, DeviceBuffer y, int m,
                                    Precision precision) {
        if (precision.quantizesActivations()) {
            kernels.rmsnormQuantizeW4axGemm(rows, gain, config.rmsNormEps(), work.normedQuantized, work.normedScales, w,
                    y, w.rows(), m, precision.activationBits());
        } else {
            kernels.rmsnormW4a16Gemm(rows, gain, config.rmsNormEps(), work.normedHalf, w, y, w.rows(), m);
        }
    }

    /** {@code y = normed W^T} from the normed buffers (fp16, or quantized for the draft), their rows in {@code order}. */
    private void linearFromNormed(DeviceLinear w, DeviceBuffer y, int m, Precision precision, TokenOrder order) {
        if (precision.quantizesActivations()) {
            kernels.w4axGemm(work.normedQuantized, work.normedScales, w, y, w.rows(), m, precision.activationBits(), false,
                    order);
        } else {
            a16Gemm(work.normedHalf, config.dim(), w, y, w.rows(), m, precision, false, order);
        }
    }

    /**
     * {@code residual += x W^T} (x: {@code xHalf} for 16-bit activations, the quantized buffers for the draft), the
     * residual add in the GEMM's epilogue; then, unless {@code gain} is null (the last block, whose final norm takes
     * the selected rows, or a GEMV after it that normalises its own input), the RMSNorm with {@code gain} into the
     * normed buffers, quantized in groups of {@code group} for the draft: in the GEMV's last CTA where the norm tail
     * runs, else by the norm kernel. {@code xOrder}: the order of x's rows; {@code normedOrder}: the one the norm
     * writes (row order where the tail runs, which {@link PassTokenOrders} knows).
     */
    private void addToResidualThenNormalise(DeviceBuffer xHalf, int ldx, DeviceLinear w, int m, Precision precision,
                                            DeviceBuffer gain, int group, TokenOrder xOrder, TokenOrder normedOrder) {
        float eps = config.rmsNormEps();
        boolean quantized = precision.quantizesActivations();
        boolean tail = normTail && gain != null;
        if (tail && quantized) {
            kernels.w4axGemmAddRmsnormQuantize(work.quantized, work.quantScales, w, work.residual, m,
                    precision.activationBits(), gain, eps, group, work.normedQuantized, work.normedScales, work.normTicket);
        } else if (tail && precision != Precision.FP32) {
            kernels.w4a16GemmAddRmsnorm(xHalf, ldx, w, work.residual, m, gain, eps, work.normedHalf, work.normTicket);
        } else {
            if (quantized) {
                kernels.w4axGemm(work.quantized, work.quantScales, w, work.residual, w.rows(), m,
                        precision.activationBits(), true, xOrder);
            } else {
                a16Gemm(xHalf, ldx, w, work.residual, w.rows(), m, precision, true, xOrder);
            }
            if (gain != null) {
                normalise(gain, group, m, precision, normedOrder);
            }
        }
    }

    /**
     * The RMSNorm of the residual stream into the normed buffers (quantized in groups of {@code group} for the draft),
     * their rows in {@code order}.
     */
    private void normalise(DeviceBuffer gain, int group, int m, Precision precision, TokenOrder order) {
        if (precision.quantizesActivations()) {
            kernels.rmsnormQuantize(work.residual, gain, work.normedQuantized, work.normedScales, m, config.dim(), group,
                    precision.activationBits(), config.rmsNormEps(), order);
        } else {
            kernels.rmsnormF16(work.residual, gain, work.normedHalf, m, config.dim(), config.rmsNormEps(), order);
        }
    }

    /**
     * {@code y_f32[M, N] = x_f16[M, K] W^T} for the 16-bit-activation precisions: the INT4 verify GEMM (W4A16),
     * or cuBLAS on the dense fp16 copy of {@code w} (FP32, i.e. W16A16), which reads row order only.
     */
    private void a16Gemm(DeviceBuffer x, int ldx, DeviceLinear w, DeviceBuffer y, int ldy, int m, Precision precision,
                         boolean accumulate, TokenOrder order) {
        if (precision == Precision.FP32) {
            if (order != TokenOrder.ROW) {
                throw new IllegalStateException("cuBLAS reads tokens in row order, not " + order);
            }
            dense.gemm(x, ldx, w, y, ldy, m, accumulate);
        } else {
            kernels.w4a16Gemm(x, ldx, w, y, ldy, m, accumulate, order);
        }
    }

    /** Final norm and the output projection over the selected rows, its input in {@code order}. */
    private void project(DeviceBuffer norm, DeviceLinear output, DeviceBuffer rows, int m, DeviceBuffer logits,
                         Precision precision, TokenOrder order) {
        if (headsNormalise(precision)) {  // the normed buffers are free: the last block left no norm there
            linearFromResidual(rows, norm, output, logits, m, precision);
        } else if (precision.quantizesActivations()) {
            int bits = precision.activationBits();
            kernels.rmsnormQuantize(rows, norm, work.quantized, work.quantScales, m, config.dim(), output.group(), bits,
                    config.rmsNormEps(), order);
            kernels.w4axGemm(work.quantized, work.quantScales, output, logits, config.vocabSize(), m, bits, false, order);
        } else {
            kernels.rmsnormF16(rows, norm, work.half, m, config.dim(), config.rmsNormEps(), order);
            a16Gemm(work.half, config.dim(), output, logits, config.vocabSize(), m, precision, false, order);
        }
    }

    /** Copies the residual rows that get logits into a compact buffer, one copy per contiguous run. */
    private void gatherRows(int[] sources) {
        long rowBytes = (long) config.dim() * 4;
        int i = 0;
        while (i < sources.length) {
            int run = 1;
            while (i + run < sources.length && sources[i + run] == sources[i] + run) {
                run++;
            }
            stream.copyAsync(work.selectedRows.slice(i * rowBytes, run * rowBytes),
                    work.residual.slice(sources[i] * rowBytes, run * rowBytes), run * rowBytes);
            i += run;
        }
    }

    private void uploadInts(int[] values, DeviceBuffer dst) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(ValueLayout.JAVA_INT, values.length);
            MemorySegment.copy(values, 0, host, ValueLayout.JAVA_INT, 0, values.length);
            memory.copyToDevice(host, dst, 0);
        }
    }

    private int[] downloadInts(DeviceBuffer src, int count) {
        int[] out = new int[count];
        download(src, (long) count * 4, host -> MemorySegment.copy(host, ValueLayout.JAVA_INT, 0, out, 0, count));
        return out;
    }

    private float[] downloadFloats(DeviceBuffer src, long count) {
        if (count > Integer.MAX_VALUE - 8) {
            throw new QSpecException(count + " logits do not fit a Java array; ask for fewer logit rows per pass");
        }
        float[] out = new float[(int) count];
        download(src, count * 4, host -> MemorySegment.copy(host, ValueLayout.JAVA_FLOAT, 0, out, 0, out.length));
        return out;
    }

    /** Waits for the pass, copies the first {@code bytes} of {@code src} to host memory and hands it to {@code read}. */
    private void download(DeviceBuffer src, long bytes, Consumer<MemorySegment> read) {
        // synchronizing first attributes an asynchronous kernel failure to this pass, not to the copy
        stream.synchronize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(bytes, 64);
            memory.copyToHost(src, host);
            read.accept(host);
        }
    }

    private List<CudaKvCache> caches(List<SequenceInput> batch) {
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("a forward pass needs at least one sequence");
        }
        IdentityHashMap<CudaKvCache, Boolean> seen = new IdentityHashMap<>();
        List<CudaKvCache> caches = new ArrayList<>(batch.size());
        for (int s = 0; s < batch.size(); s++) {
            KvCache cache = batch.get(s).cache();
            if (!(cache instanceof CudaKvCache c) || c.owner() != this) {
                throw new IllegalArgumentException("sequence " + s + ": its cache was not created by this CUDA runner");
            }
            if (c.isClosed()) {
                throw new IllegalArgumentException("sequence " + s + ": its cache is closed");
            }
            if (seen.put(c, Boolean.TRUE) != null) {
                throw new IllegalArgumentException("sequence " + s + ": the same cache appears twice in one batch");
            }
            caches.add(c);
        }
        return caches;
    }

    /**
     * Copies one cached K or V row to {@code dst} once the queued passes are done. Under the runner's lock: another
     * thread may be capturing a graph on the stream, or closing the runner and freeing the pool.
     */
    synchronized void readKvRow(boolean key, int layer, int block, int slot, float[] dst) {
        requireOpen();
        stream.synchronize();
        if (!key || config.ropeStyle() == weights.ropeStyle) {
            pool.readRow(key ? pool.keys(layer) : pool.values(layer), block, slot, dst);
            return;
        }
        float[] gpuOrder = new float[dst.length];  // keys hold the GPU's RoPE row order: back to the model's
        pool.readRow(pool.keys(layer), block, slot, gpuOrder);
        for (int d = 0; d < config.kvDim(); d++) {
            dst[RopeRowOrder.sourceRow(d, config.headDim(), config.ropeStyle())] = gpuOrder[d];
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Device bytes of the W16A16 dense weights: 0 until the first FP32 pass builds them. */
    synchronized long denseWeightBytes() {
        return dense == null ? 0 : dense.bytes();
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("CUDA runner for " + model.name() + " is closed");
        }
        CudaCalls.requireContext();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stream.synchronize();  // queued passes finish before their memory goes
        } catch (CudaException e) {
            // nobody is left to read that pass's result: the error is logged and everything is released regardless
            LOG.log(System.Logger.Level.WARNING, "closing the CUDA runner for " + model.name() + ": " + e.getMessage());
        } finally {
            try {
                passes.close();
            } finally {
                try {
                    if (dense != null) {
                        dense.close();
                    }
                } finally {
                    memory.close();
                    stream.close();
                }
            }
        }
    }
}
