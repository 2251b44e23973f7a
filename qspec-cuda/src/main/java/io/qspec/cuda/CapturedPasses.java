package io.qspec.cuda;

import io.qspec.Precision;
import io.qspec.cuda.ffm.CudaRuntime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * CUDA graphs of whole forward passes, so that a decode or draft step of a few hundred small kernels
 * costs one launch instead of one per kernel (at batch 1 the host, not the GPU, would set the pace).
 *
 * <p>A pass is captured the second time its {@link Shape} is seen (one-off prefill shapes never pay the
 * capture) and replayed afterwards. A graph bakes in every kernel argument: buffer addresses and
 * sizes. The per-pass inputs (token ids, positions, block tables) live in device buffers that are
 * rewritten before each launch, so replay computes the new step; the shape holds everything else
 * that reaches a kernel by value. Graphs are dropped when the work buffers move ({@link #invalidate}).
 *
 * <p>Where capture is refused (a runtime without graph support), passes run directly from then on.
 */
final class CapturedPasses implements AutoCloseable {
    /** Everything a captured pass depends on besides the contents of the input buffers. */
    record Shape(Precision precision, int tokens, int sequences, int tableWidth, int run, ContextBounds contexts,
                 int[] logitSources) {
        Shape {
            Objects.requireNonNull(contexts, "contexts");
            logitSources = logitSources.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Shape s && s.precision == precision && s.tokens == tokens && s.sequences == sequences
                    && s.tableWidth == tableWidth && s.run == run && s.contexts.equals(contexts)
                    && java.util.Arrays.equals(s.logitSources, logitSources);
        }

        @Override
        public int hashCode() {
            return Objects.hash(precision, tokens, sequences, tableWidth, run, contexts,
                    java.util.Arrays.hashCode(logitSources));
        }
    }

    /** Passes larger than this many tokens (prefill) are never captured. */
    static final int MAX_CAPTURED_TOKENS = 256;
    private static final int MAX_GRAPHS = 48;
    /** {@code cudaErrorStreamCaptureUnsupported} and {@code cudaErrorNotSupported}: graphs are off, passes still run. */
    private static final int CAPTURE_UNSUPPORTED = 900;
    private static final int NOT_SUPPORTED = 801;
    private static final System.Logger LOG = System.getLogger(CapturedPasses.class.getName());

    private static final Cleaner CLEANER = Cleaner.create();

    private final MemorySegment stream;
    /** Executable graphs by shape, least recently used first; also what the cleaner destroys. */
    private final Map<Shape, MemorySegment> graphs = new LinkedHashMap<>(16, 0.75f, true);
    private final Cleaner.Cleanable cleanable;
    private final Map<Shape, Boolean> seenOnce = new LinkedHashMap<>(16, 0.75f, true);
    private boolean enabled;

    CapturedPasses(MemorySegment stream, boolean enabled) {
        this.stream = stream;
        this.enabled = enabled;
        // a runner dropped without close() must not keep its graphs for the life of the process
        this.cleanable = CLEANER.register(this, new Destroyer(graphs));
    }

    /** Destroys the graphs left in a map; references the map only, so the owner can become unreachable. */
    private record Destroyer(Map<Shape, MemorySegment> graphs) implements Runnable {
        @Override
        public void run() {
            for (MemorySegment exec : graphs.values()) {
                CudaRuntime.cudaGraphExecDestroy(exec);
            }
            graphs.clear();
        }
    }

    /** Whether graphs are in use (false once the runtime refused a capture). */
    boolean enabled() {
        return enabled;
    }

    /** Number of graphs held. */
    int size() {
        return graphs.size();
    }

    /** Runs {@code pass} (which only enqueues work on the stream): replayed, captured then launched, or directly. */
    void run(Shape shape, Runnable pass) {
        if (!enabled || shape.tokens() > MAX_CAPTURED_TOKENS) {
            pass.run();
            return;
        }
        MemorySegment exec = graphs.get(shape);
        if (exec == null) {
            if (seenOnce.remove(shape) == null) {
                seenOnce.put(shape, Boolean.TRUE);
                trim(seenOnce, 4 * MAX_GRAPHS);
                pass.run();
                return;
            }
            exec = capture(pass);
            if (exec == null) {
                return; // capture refused: the pass has run directly
            }
            graphs.put(shape, exec);
            evictBeyondLimit();
        }
        CudaCalls.check(CudaRuntime.cudaGraphLaunch(exec, stream), "cudaGraphLaunch");
    }

    /** Captures {@code pass} into an executable graph; null (after running it directly) if capture is refused. */
    private MemorySegment capture(Runnable pass) {
        int begin = CudaRuntime.cudaStreamBeginCapture(stream, CudaRuntime.cudaStreamCaptureModeThreadLocal);
        if (begin != CudaRuntime.cudaSuccess) {
            CudaRuntime.cudaGetLastError();
            if (begin != CAPTURE_UNSUPPORTED && begin != NOT_SUPPORTED) {
                CudaCalls.check(begin, "cudaStreamBeginCapture");  // a failure of this pass, not of graphs
            }
            enabled = false;
            LOG.log(System.Logger.Level.INFO, "CUDA graph capture unavailable (" + CudaCalls.describe(begin)
                    + "); launching kernels one by one");
            pass.run();
            return null;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment graphOut = arena.allocate(ValueLayout.ADDRESS);
            try {
                pass.run();
            } catch (RuntimeException | Error e) {
                // end the capture so the stream is usable again; the partial graph is discarded
                if (CudaRuntime.cudaStreamEndCapture(stream, graphOut) == CudaRuntime.cudaSuccess) {
                    CudaRuntime.cudaGraphDestroy(graphOut.get(ValueLayout.ADDRESS, 0));
                }
                CudaRuntime.cudaGetLastError();
                throw e;
            }
            CudaCalls.check(CudaRuntime.cudaStreamEndCapture(stream, graphOut), "cudaStreamEndCapture");
            MemorySegment graph = graphOut.get(ValueLayout.ADDRESS, 0);
            MemorySegment execOut = arena.allocate(ValueLayout.ADDRESS);
            try {
                CudaCalls.check(CudaRuntime.cudaGraphInstantiate(execOut, graph, 0), "cudaGraphInstantiate");
            } finally {
                CudaRuntime.cudaGraphDestroy(graph);
            }
            return MemorySegment.ofAddress(execOut.get(ValueLayout.ADDRESS, 0).address());
        }
    }

    private void evictBeyondLimit() {
        Iterator<Map.Entry<Shape, MemorySegment>> it = graphs.entrySet().iterator();
        while (graphs.size() > MAX_GRAPHS && it.hasNext()) {
            CudaRuntime.cudaGraphExecDestroy(it.next().getValue());
            it.remove();
        }
    }

    private static void trim(Map<Shape, Boolean> map, int limit) {
        Iterator<Shape> it = map.keySet().iterator();
        while (map.size() > limit && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    /** Drops every graph (the buffers they point into have moved). */
    void invalidate() {
        for (MemorySegment exec : graphs.values()) {
            CudaRuntime.cudaGraphExecDestroy(exec);
        }
        graphs.clear();
        seenOnce.clear();
    }

    @Override
    public void close() {
        invalidate();
        cleanable.clean();
    }
}
