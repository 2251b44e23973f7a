package io.qspec.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Splits a range of independent output rows {@code [0, n)} into contiguous chunks and runs them on
 * a fixed number of threads (the caller runs one chunk itself). Every kernel computes each output
 * row entirely inside one chunk with a fixed operation order, so results never depend on the thread
 * count or on where chunk boundaries fall.
 *
 * <p>Small jobs run inline: a chunk gets at least {@code minWorkPerTask} units of work (the kernels
 * count multiply-adds), because forking costs microseconds. A split call allocates only its few
 * task objects.
 */
public final class ParallelRows {
    /** Work, in multiply-adds, below which forking a task costs more than it saves. */
    public static final long DEFAULT_MIN_WORK_PER_TASK = 1L << 16;

    private static final ParallelRows SHARED = new ParallelRows(Runtime.getRuntime().availableProcessors());
    private static final ParallelRows SERIAL = new ParallelRows(1);
    /** Never started: only asks segments whether a thread other than their owner may touch them. */
    private static final Thread OTHER_THREAD = Thread.ofVirtual().unstarted(() -> { });

    /** The body run for one chunk {@code [start, end)} of rows. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private final int threads;
    private final long minWorkPerTask;
    /** Workers besides the caller; null when single-threaded. */
    private final ForkJoinPool pool;

    /** A helper with {@code threads} threads (including the caller) and the default work threshold. */
    public ParallelRows(int threads) {
        this(threads, DEFAULT_MIN_WORK_PER_TASK);
    }

    /**
     * @param threads        threads taking part, including the calling thread (≥ 1)
     * @param minWorkPerTask least work a chunk must carry before the range is split (≥ 1)
     */
    public ParallelRows(int threads, long minWorkPerTask) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be ≥ 1, got " + threads);
        }
        if (minWorkPerTask < 1) {
            throw new IllegalArgumentException("minWorkPerTask must be ≥ 1, got " + minWorkPerTask);
        }
        this.threads = threads;
        this.minWorkPerTask = minWorkPerTask;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads - 1);
    }

    /** The process-wide helper, one thread per available processor. */
    public static ParallelRows shared() {
        return SHARED;
    }

    /**
     * This helper, or a single-threaded one when {@code segment} belongs to a confined arena: only its
     * owner thread may touch it, so work on it cannot be spread over threads.
     */
    public ParallelRows forSegment(MemorySegment segment) {
        return threads == 1 || segment.isAccessibleBy(OTHER_THREAD) ? this : SERIAL;
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous chunks and
     * returns when all are done. Exceptions thrown by a chunk are rethrown here.
     *
     * @param workPerRow cost of one row (e.g. multiply-adds), used to decide how many chunks pay off
     */
    public void forEach(int n, long workPerRow, RangeBody body) {
        if (n <= 0) {
            return;
        }
        long byWork = Math.max(1, Math.max(1, workPerRow) * n / minWorkPerTask);
        int tasks = (int) Math.min(Math.min(threads, n), byWork);
        // nested use from one of our own workers runs inline instead of waiting on the pool it occupies
        if (tasks <= 1 || ForkJoinTask.getPool() == pool) {
            body.run(0, n);
            return;
        }
        ForkJoinTask<?>[] forked = new ForkJoinTask<?>[tasks - 1];
        for (int t = 1; t < tasks; t++) {
            int start = chunkStart(n, tasks, t);
            int end = chunkStart(n, tasks, t + 1);
            forked[t - 1] = pool.submit(() -> body.run(start, end), null);
        }
        RuntimeException failure = null;
        try {
            body.run(0, chunkStart(n, tasks, 1));
        } catch (RuntimeException e) {
            failure = e;
        }
        for (ForkJoinTask<?> task : forked) {
            try {
                task.join();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static int chunkStart(int n, int tasks, int t) {
        return (int) ((long) n * t / tasks);
    }
}
