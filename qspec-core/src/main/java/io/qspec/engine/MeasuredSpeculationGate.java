package io.qspec.engine;

/**
 * {@link SpeculationGate#measured()}: per batch-size bucket (1, 2-3, 4-7, ...), the committed tokens
 * and the nanoseconds of speculative rounds and of plain W4A16 steps, each sum decaying by
 * {@link #DECAY} per observation, so that the rate is tokens per second over the recent steps (a
 * round that happened to accept nothing weighs as little as its time). The first {@link #WARMUP}
 * observations of each mode in a bucket are not counted: they pay for JIT compilation and, on a GPU,
 * for capturing the pass shapes as CUDA graphs, which would make the mode tried first look slow for a
 * long time. The modes are then tried in turn until each has {@link #MIN_SAMPLES} counted
 * observations; afterwards the faster runs, and every {@link #EXPLORE_EVERY}-th step of a bucket runs
 * the other, so that a rate measured at short contexts, say, does not decide forever.
 */
final class MeasuredSpeculationGate implements SpeculationGate {
    static final int WARMUP = 1;
    static final int MIN_SAMPLES = 4;
    static final int EXPLORE_EVERY = 16;
    private static final double DECAY = 0.9;
    private static final int BUCKETS = 32;

    /** Decayed sums and the number of observations of one mode in one bucket. */
    private static final class Rate {
        double tokens;
        double nanos;
        int seen;     // observations, warm-up included
        int samples;  // observations counted in the sums

        void add(int t, long n) {
            if (seen++ < WARMUP) {
                return;
            }
            tokens = tokens * DECAY + t;
            nanos = nanos * DECAY + n;
            samples++;
        }

        double perNano() {
            return tokens / nanos;
        }
    }

    private final Rate[] speculative = new Rate[BUCKETS];
    private final Rate[] plain = new Rate[BUCKETS];
    private final long[] decisions = new long[BUCKETS];

    MeasuredSpeculationGate() {
        for (int b = 0; b < BUCKETS; b++) {
            speculative[b] = new Rate();
            plain[b] = new Rate();
        }
    }

    @Override
    public boolean speculate(int requests) {
        if (requests <= 0) {
            return false;
        }
        int b = bucket(requests);
        Rate sp = speculative[b];
        Rate pl = plain[b];
        if (sp.samples < MIN_SAMPLES || pl.samples < MIN_SAMPLES) {  // learning: the modes in turn
            if (pl.samples >= MIN_SAMPLES) {
                return true;
            }
            return sp.samples < MIN_SAMPLES && sp.seen <= pl.seen;
        }
        boolean faster = speculative[b].perNano() >= plain[b].perNano();
        return ++decisions[b] % EXPLORE_EVERY == 0 ? !faster : faster;
    }

    @Override
    public void observe(boolean speculativeStep, int requests, int tokens, long nanos) {
        if (requests <= 0 || tokens <= 0 || nanos <= 0) {
            return;
        }
        (speculativeStep ? speculative : plain)[bucket(requests)].add(tokens, nanos);
    }

    @Override
    public String name() {
        return "measured";
    }

    private static int bucket(int requests) {
        return 31 - Integer.numberOfLeadingZeros(requests);
    }
}
