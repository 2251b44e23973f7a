package io.qspec.engine;

/**
 * {@link SpeculationGate#measured()}: per batch-size bucket (1, 2-3, 4-7, ...), the committed tokens
 * and the nanoseconds of speculative rounds and of plain W4A16 steps, each sum decaying by
 * {@link #DECAY} per observation, so that the rate is tokens per second over the recent steps (a
 * round that happened to accept nothing weighs as little as its time). The first {@link #WARMUP}
 * observations of each mode in a bucket are not counted: they pay for JIT compilation and, on a GPU,
 * for capturing the pass shapes as CUDA graphs, which would make the mode tried first look slow for a
 * long time. The modes are then tried in turn until each has {@link #MIN_SAMPLES} counted
 * observations; afterwards the faster runs, and the other runs again whenever the bucket has spent
 * {@link #EXPLORE_EVERY} times that mode's mean step time since it last did, so that a rate measured at
 * short contexts, say, does not decide forever. Exploration is budgeted in time, not in steps: a speculative
 * round lasts several plain steps, and one round in every 16 steps spent about a fifth of the time speculating
 * where speculation lost (on the H200 at batch 8-32, 0.86-0.87x of plain W4A16).
 *
 * <p>A bucket not yet learnt starts from plain steps where the nearest smaller bucket that is learnt found
 * speculation slower: a larger batch widens the verify pass γ + 1-fold while the drafts still read every weight
 * byte, so speculation only loses more. It then speculates only within the exploration budget (the round's length
 * estimated from that smaller bucket until its own rounds are counted), and its own rates decide once it has
 * {@link #MIN_SAMPLES} of each. Learning every bucket in turn had cost 4-5 speculative rounds per bucket, about
 * 10 % of a 256-token run at batch 8-32 on the H100 (docs/PERFORMANCE.md, session 44).
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
        double weight;  // the decayed count of the observations in the sums
        int seen;       // observations, warm-up included
        int samples;    // observations counted in the sums

        void add(int t, long n) {
            if (seen++ < WARMUP) {
                return;
            }
            tokens = tokens * DECAY + t;
            nanos = nanos * DECAY + n;
            weight = weight * DECAY + 1;
            samples++;
        }

        double perNano() {
            return tokens / nanos;
        }

        double meanNanos() {
            return nanos / weight;
        }
    }

    private final Rate[] speculative = new Rate[BUCKETS];
    private final Rate[] plain = new Rate[BUCKETS];
    /** Nanoseconds a bucket has run since the slower mode last ran there. */
    private final double[] sinceExplored = new double[BUCKETS];

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
        if (learnt(b)) {
            boolean faster = sp.perNano() >= pl.perNano();
            return explore(b, faster, (faster ? pl : sp).meanNanos());
        }
        int prior = smallerBucketWherePlainWon(b);
        if (prior >= 0) {  // start from plain steps; speculate within the exploration budget
            if (pl.samples == 0) {
                return false;
            }
            double roundNanos = sp.samples > 0 ? sp.meanNanos()
                    : pl.meanNanos() * speculative[prior].meanNanos() / plain[prior].meanNanos();
            return explore(b, false, roundNanos);
        }
        // learning: the modes in turn
        if (pl.samples >= MIN_SAMPLES) {
            return true;
        }
        return sp.samples < MIN_SAMPLES && sp.seen <= pl.seen;
    }

    /** The faster mode, or the slower one once the bucket has run {@link #EXPLORE_EVERY} of its steps' time. */
    private boolean explore(int b, boolean faster, double slowerNanos) {
        if (sinceExplored[b] >= EXPLORE_EVERY * slowerNanos) {
            sinceExplored[b] = 0;
            return !faster;
        }
        return faster;
    }

    private boolean learnt(int b) {
        return speculative[b].samples >= MIN_SAMPLES && plain[b].samples >= MIN_SAMPLES;
    }

    /** The nearest smaller learnt bucket if plain steps were faster there, else -1. */
    private int smallerBucketWherePlainWon(int b) {
        for (int k = b - 1; k >= 0; k--) {
            if (learnt(k)) {
                return speculative[k].perNano() < plain[k].perNano() ? k : -1;
            }
        }
        return -1;
    }

    @Override
    public void observe(boolean speculativeStep, int requests, int tokens, long nanos) {
        if (requests <= 0 || tokens <= 0 || nanos <= 0) {
            return;
        }
        int b = bucket(requests);
        (speculativeStep ? speculative : plain)[b].add(tokens, nanos);
        sinceExplored[b] += nanos;
    }

    @Override
    public String name() {
        return "measured";
    }

    private static int bucket(int requests) {
        return 31 - Integer.numberOfLeadingZeros(requests);
    }
}
