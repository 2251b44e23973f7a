package io.qspec.engine;

import io.qspec.DecodingMode;
import io.qspec.Precision;
import io.qspec.backend.GreedyTokens;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.SequenceInput;
import io.qspec.kv.KvCacheExhaustedException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Continuous batching: one thread runs steps over every active sequence. Between steps, waiting
 * requests join when the KV memory can hold them (first come, first served) and finished or
 * cancelled ones leave, returning their KV blocks at once. A step is: prefill of the newcomers
 * (one pass), one decode pass per plain precision, and one speculative round for every QSpec
 * sequence (shared draft passes, one verify pass).
 */
public final class Scheduler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.qspec");

    private final ModelRunner runner;
    private final SpeculationGate gate;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workArrived = lock.newCondition();
    private final Deque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> active = new ArrayList<>();
    private final EngineMetrics metrics = new EngineMetrics();
    private final Thread thread;
    private volatile boolean running = true;

    public Scheduler(ModelRunner runner) {
        this(runner, SpeculationGate.always());
    }

    /**
     * @param gate decides each step whether the QSpec requests in flight run a speculative round or
     *             plain W4A16 steps (their exact greedy tokens, or their sampling distribution, either way)
     */
    public Scheduler(ModelRunner runner, SpeculationGate gate) {
        this.runner = runner;
        this.gate = Objects.requireNonNull(gate, "gate");
        this.thread = Thread.ofPlatform().daemon().name("qspec-scheduler").start(this::loop);
    }

    /** Queues a sequence; rejects at once one that could never fit in the KV memory. */
    void submit(Sequence sequence) {
        if (sequence.reservedPositions > runner.totalKvPositions()) {
            throw new KvCacheExhaustedException("request needs " + sequence.reservedPositions
                    + " KV positions (prompt + max tokens + lookahead) but the KV memory holds only "
                    + runner.totalKvPositions() + "; lower maxTokens or configure a larger KV budget");
        }
        lock.lock();
        try {
            if (!running) {
                throw new IllegalStateException("engine is closed");
            }
            waiting.add(sequence);
            metrics.queued(waiting.size());
            workArrived.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes the loop so a cancellation takes effect even when idle. */
    void wake() {
        lock.lock();
        try {
            workArrived.signal();
        } finally {
            lock.unlock();
        }
    }

    public EngineMetrics.Snapshot metrics() {
        lock.lock();
        try {
            return metrics.snapshot(waiting.size(), active.size(), runner.totalKvPositions() - runner.availableKvPositions(),
                    runner.totalKvPositions());
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        while (running) {
            List<Sequence> admitted = admit();
            if (admitted == null) {
                return;
            }
            try {
                prefill(admitted);
                step();
            } catch (RuntimeException | Error e) {
                // not a pass's failure (those fail only their own sequences, in pass()): nothing here is trusted
                LOG.log(System.Logger.Level.WARNING, "generation step failed: " + e);
                for (Sequence s : new ArrayList<>(active)) {
                    s.fail(e);
                }
                active.clear();
            }
            retireFinished();
        }
    }

    /** Waits for work, then moves waiting sequences that fit into the active set. */
    private List<Sequence> admit() {
        lock.lock();
        try {
            while (running && active.isEmpty() && waiting.isEmpty()) {
                workArrived.awaitUninterruptibly();
            }
            if (!running) {
                return null;
            }
            waiting.removeIf(s -> {
                if (s.cancelled()) {
                    s.complete(runner.backendName());
                    return true;
                }
                return false;
            });
            List<Sequence> admitted = new ArrayList<>();
            while (!waiting.isEmpty() && waiting.peek().reservedPositions <= runner.availableKvPositions()) {
                Sequence s = waiting.poll();
                s.cache = runner.newCache(s.reservedPositions);
                admitted.add(s);
                active.add(s);
            }
            return admitted;
        } finally {
            lock.unlock();
        }
    }

    private void prefill(List<Sequence> admitted) {
        Map<Precision, List<Sequence>> byPrecision = new LinkedHashMap<>();
        for (Sequence s : admitted) {
            byPrecision.computeIfAbsent(s.prefillPrecision(), p -> new ArrayList<>()).add(s);
        }
        for (var e : byPrecision.entrySet()) {
            pass(e.getValue(), () -> {
                List<SequenceInput> inputs = e.getValue().stream().map(s -> new SequenceInput(s.cache, s.prompt, false)).toList();
                long t0 = System.nanoTime();
                int[] next = nextTokens(e.getValue(), inputs, e.getKey());
                long nanos = System.nanoTime() - t0;
                for (int i = 0; i < inputs.size(); i++) {
                    e.getValue().get(i).prefilled(next[i], t0, nanos);
                }
                metrics.pass(inputs.size());
            });
        }
    }

    /**
     * Runs one pass over {@code sequences}. If it throws (the device ran out of memory for a long prompt, say), the
     * sequences in it fail with the error and release their caches; the engine's other sequences are in passes of
     * their own and go on. {@link #retireFinished} then drops the failed ones.
     */
    private void pass(List<Sequence> sequences, Runnable pass) {
        try {
            pass.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "a pass of " + sequences.size() + " sequences failed: " + e);
            for (Sequence s : sequences) {
                s.fail(e);
            }
        }
    }

    /**
     * One pass over {@code inputs} and every sequence's next token, from its last logit row: by argmax
     * when all of them choose by plain argmax, else drawn with each one's sampling parameters. Either
     * way the backend returns token ids only, not vocabulary-wide logit rows.
     */
    private int[] nextTokens(List<Sequence> sequences, List<SequenceInput> inputs, Precision precision) {
        int[] next = new int[inputs.size()];
        if (sequences.stream().allMatch(s -> s.sampler.choosesArgmax())) {
            GreedyTokens tokens = runner.forwardGreedy(inputs, precision);
            for (int i = 0; i < next.length; i++) {
                next[i] = tokens.token(i, 0);
            }
            return next;
        }
        // the backend draws where the logits are; each draw carries its request's next uniform variate
        return runner.forwardSampled(inputs, precision, sequences.stream().map(s -> s.sampler.nextDraw()).toList());
    }

    private void step() {
        List<Sequence> live = active.stream().filter(s -> !s.finished() && !s.cancelled() && !s.future.isDone()).toList();
        Map<Precision, List<Sequence>> plain = new LinkedHashMap<>();
        List<Sequence> speculative = new ArrayList<>();
        for (Sequence s : live) {
            switch (s.request.mode()) {
                case DecodingMode.Plain p -> plain.computeIfAbsent(p.precision(), k -> new ArrayList<>()).add(s);
                case DecodingMode.Speculative sp -> {
                    // never draft past the tokens still wanted or the reserved cache
                    int room = Math.min(s.remaining() - 1, s.cache.capacity() - s.cache.length() - 1);
                    if (room < 1) {
                        plain.computeIfAbsent(Precision.W4A16, k -> new ArrayList<>()).add(s);
                    } else {
                        speculative.add(s);
                    }
                }
            }
        }
        boolean gatedOff = !speculative.isEmpty() && !speculate(speculative);
        if (gatedOff) {  // plain W4A16 steps this time: the same outputs
            plain.computeIfAbsent(Precision.W4A16, k -> new ArrayList<>()).addAll(speculative);
            speculative.clear();
        }
        for (var e : plain.entrySet()) {
            pass(e.getValue(), () -> {
                List<SequenceInput> inputs = e.getValue().stream()
                        .map(s -> new SequenceInput(s.cache, new int[] {s.next}, false)).toList();
                long t0 = System.nanoTime();
                int[] next = nextTokens(e.getValue(), inputs, e.getKey());
                if (gatedOff && e.getKey() == Precision.W4A16) {
                    observe(false, inputs.size(), inputs.size(), System.nanoTime() - t0);
                }
                for (int i = 0; i < inputs.size(); i++) {
                    e.getValue().get(i).commit(next[i]);
                }
                metrics.pass(inputs.size());
            });
        }
        if (!speculative.isEmpty()) {
            pass(speculative, () -> speculativeRound(speculative));
        }
    }

    /** One speculative round (drafts, then one verify pass) over {@code speculative}. */
    private void speculativeRound(List<Sequence> speculative) {
        List<SpeculativeRound.Lane> lanes = new ArrayList<>();
        List<Sequence> drafting = new ArrayList<>();
        for (Sequence s : speculative) {
            DecodingMode.Speculative sp = (DecodingMode.Speculative) s.request.mode();
            int room = Math.min(s.remaining() - 1, s.cache.capacity() - s.cache.length() - 1);
            try {
                int gamma = sp.draftLength().nextGamma(s.draftHistory, sp.draft().gamma());
                if (gamma < 1 || gamma > sp.draft().gamma()) {
                    throw new IllegalStateException("draft length policy " + sp.draftLength().name() + " chose γ = " + gamma
                            + "; it must be in [1, " + sp.draft().gamma() + "]");
                }
                lanes.add(new SpeculativeRound.Lane(s.cache, s.next, sp.draft(), Math.max(1, Math.min(gamma, room)),
                        s.acceptance(sp), sp.draftLength(), s.sampler));
                drafting.add(s);
            } catch (RuntimeException e) {
                s.fail(e);  // the request's own policy: it fails alone
            }
        }
        if (lanes.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<SpeculativeRound.Outcome> outcomes = SpeculativeRound.run(runner, lanes);
        long nanos = System.nanoTime() - t0;
        int committed = 0;
        for (int i = 0; i < drafting.size(); i++) {
            SpeculativeRound.Outcome outcome = outcomes.get(i);
            if (outcome.failure() != null) {
                drafting.get(i).fail(outcome.failure());
                continue;
            }
            drafting.get(i).recordRound(outcome);
            committed += outcome.tokens().length;
        }
        observe(true, drafting.size(), committed, nanos);
        metrics.pass(drafting.size());
    }

    /**
     * The gate's decision for {@code speculative}. If the gate throws, those requests (whose steps it decides) fail
     * and are removed from the list; the plain ones go on.
     */
    private boolean speculate(List<Sequence> speculative) {
        try {
            return gate.speculate(speculative.size());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "speculation gate failed: " + e);
            speculative.forEach(s -> s.fail(e));
            speculative.clear();
            return true;
        }
    }

    /** Tells the gate what a step measured; a gate that fails to learn costs no request its tokens. */
    private void observe(boolean speculated, int sequences, int tokens, long nanos) {
        try {
            gate.observe(speculated, sequences, tokens, nanos);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "speculation gate failed to observe a step: " + e);
        }
    }

    private void retireFinished() {
        List<Sequence> done = new ArrayList<>();
        lock.lock();
        try {
            active.removeIf(s -> {
                if (s.finished() || s.cancelled()) {
                    done.add(s);
                    return true;
                }
                return s.future.isDone();
            });
        } finally {
            lock.unlock();
        }
        // outside the lock: completion runs the caller's handler, which must not hold up submit() or metrics()
        for (Sequence s : done) {
            s.complete(runner.backendName());
        }
    }

    /**
     * Throws if called on the engine's own thread, where the caller's handlers run: {@code what} would wait for the
     * thread it runs on, and the engine would stop for good.
     */
    public void requireCallerThread(String what) {
        if (Thread.currentThread() == thread) {
            throw new IllegalStateException(what + " was called from a StreamHandler callback, which runs on the"
                    + " engine's thread and would wait for itself; call it from another thread (or use submit())");
        }
    }

    /** Stops the loop after the current step; unfinished requests complete as cancelled. */
    @Override
    public void close() {
        requireCallerThread("close()");
        lock.lock();
        try {
            running = false;
            workArrived.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Sequence s : active) {
            s.cancel();
            s.complete(runner.backendName());
        }
        for (Sequence s : waiting) {
            s.cancel();
            s.complete(runner.backendName());
        }
        active.clear();
        waiting.clear();
    }
}
