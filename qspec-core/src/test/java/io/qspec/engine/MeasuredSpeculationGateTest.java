package io.qspec.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MeasuredSpeculationGateTest {

    /** Runs the gate for {@code steps} steps at one batch size with fixed rates; returns how often it speculated. */
    private static int speculatedSteps(SpeculationGate gate, int batch, double speculativeTokensPerMs,
                                       double plainTokensPerMs, int steps) {
        int speculated = 0;
        for (int i = 0; i < steps; i++) {
            boolean s = gate.speculate(batch);
            speculated += s ? 1 : 0;
            double rate = s ? speculativeTokensPerMs : plainTokensPerMs;
            gate.observe(s, batch, 100, (long) (100 / rate * 1_000_000));
        }
        return speculated;
    }

    /** The gate's first {@code steps} choices at {@code batch} (S: speculate, P: plain), every step equally fast. */
    private static String firstChoices(SpeculationGate gate, int batch, int steps) {
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < steps; i++) {
            boolean s = gate.speculate(batch);
            order.append(s ? 'S' : 'P');
            gate.observe(s, batch, 10, 1_000_000);
        }
        return order.toString();
    }

    @Test
    void takesTheFasterModeAndOnlyTriesTheOtherNowAndThen() {
        SpeculationGate slowSpeculation = SpeculationGate.measured();
        int speculated = speculatedSteps(slowSpeculation, 8, 1.0, 2.0, 160);
        // WARMUP + MIN_SAMPLES first tries, then one exploration every EXPLORE_EVERY steps (at least one)
        int tries = MeasuredSpeculationGate.WARMUP + MeasuredSpeculationGate.MIN_SAMPLES;
        int explorations = 160 / MeasuredSpeculationGate.EXPLORE_EVERY;
        assertThat(speculated).isBetween(tries + 1, tries + explorations);

        SpeculationGate fastSpeculation = SpeculationGate.measured();
        int plain = 160 - speculatedSteps(fastSpeculation, 1, 3.0, 2.0, 160);
        assertThat(plain).isBetween(tries + 1, tries + explorations);
    }

    /**
     * Where speculation loses, exploring it costs a bounded share of the time even though a speculative round
     * lasts several plain steps: here 4 (3 drafts and a verify), committing 2.4 tokens per sequence where a plain
     * step commits 1 (0.6x the plain rate, as QSpec at batch 8-32 on the H200).
     */
    @Test
    void explorationTakesABoundedShareOfTheTime() {
        SpeculationGate gate = SpeculationGate.measured();
        long plainNanos = 2_000_000;
        double speculating = 0;
        double total = 0;
        for (int i = 0; i < 2000; i++) {
            boolean s = gate.speculate(8);
            long nanos = s ? 4 * plainNanos : plainNanos;
            gate.observe(s, 8, s ? (int) (8 * 2.4) : 8, nanos);
            if (i >= 20) {  // after learning
                total += nanos;
                speculating += s ? nanos : 0;
            }
        }
        // one mean speculative round per EXPLORE_EVERY of them: 1/16 of the time (per step it was 4/19)
        assertThat(speculating / total).isBetween(0.5 / MeasuredSpeculationGate.EXPLORE_EVERY,
                1.2 / MeasuredSpeculationGate.EXPLORE_EVERY);
    }

    @Test
    void keepsBatchSizesApartAndFollowsAChange() {
        SpeculationGate gate = SpeculationGate.measured();
        speculatedSteps(gate, 1, 3.0, 2.0, 64);   // batch 1: speculation pays
        speculatedSteps(gate, 16, 1.0, 2.0, 64);  // batch 16: it does not
        assertThat(gate.speculate(1) || gate.speculate(1)).isTrue();
        // batch 1 turns unprofitable (longer contexts, say): the explorations see it and the gate follows
        int late = 0;
        speculatedSteps(gate, 1, 1.0, 2.0, 64);
        for (int i = 0; i < 32; i++) {
            late += gate.speculate(1) ? 1 : 0;
            gate.observe(false, 1, 100, 50_000_000);
        }
        assertThat(late).isLessThanOrEqualTo(32 / MeasuredSpeculationGate.EXPLORE_EVERY);
    }

    @Test
    void aSlowFirstObservationDoesNotDecide() {
        // the first speculative round pays for compilation / graph capture: 100x slower than the rest
        SpeculationGate gate = SpeculationGate.measured();
        int speculated = 0;
        for (int i = 0; i < 64; i++) {
            boolean s = gate.speculate(1);
            speculated += s ? 1 : 0;
            long nanos = s ? (i == 0 ? 5_000_000_000L : 50_000_000L) : 100_000_000L;  // speculation 2x faster
            gate.observe(s, 1, 100, nanos);
        }
        int plainTries = MeasuredSpeculationGate.WARMUP + MeasuredSpeculationGate.MIN_SAMPLES;
        assertThat(64 - speculated).isBetween(plainTries, plainTries + 64 / MeasuredSpeculationGate.EXPLORE_EVERY);
    }

    @Test
    void learnsBothModesInTurn() {
        SpeculationGate gate = SpeculationGate.measured();
        assertThat(firstChoices(gate, 4, 6)).isEqualTo("SPSPSP");
    }

    /**
     * A batch size not yet learnt starts from plain steps where a smaller one found speculation slower, and
     * speculates only within the exploration budget: no learning rounds at a loss for every batch size the engine
     * passes through.
     */
    @Test
    void aLargerBatchStartsFromPlainStepsWhereASmallerOneFoundSpeculationSlower() {
        SpeculationGate gate = SpeculationGate.measured();
        speculatedSteps(gate, 1, 1.0, 2.0, 64);  // batch 1: speculation at half the plain rate
        assertThat(gate.speculate(8)).isFalse();  // batch 8, first step: plain
        gate.observe(false, 8, 100, 50_000_000);
        int speculated = speculatedSteps(gate, 8, 1.0, 2.0, 320);
        // a speculative round (100 ms, estimated from batch 1) per 16 of them: one round per 32 plain steps
        assertThat(speculated).isBetween(1, 320 / MeasuredSpeculationGate.EXPLORE_EVERY);

        SpeculationGate unlearnt = SpeculationGate.measured();  // without batch 1's rates: learnt in turn, as before
        assertThat(speculatedSteps(unlearnt, 8, 1.0, 2.0, 320)).isGreaterThan(speculated);
    }

    /** The prior only starts a batch size off: its own measurements decide once it has enough of them. */
    @Test
    void aBatchsOwnRatesOverrideThePrior() {
        SpeculationGate gate = SpeculationGate.measured();
        speculatedSteps(gate, 1, 1.0, 2.0, 64);   // batch 1: speculation loses
        speculatedSteps(gate, 8, 3.0, 2.0, 200);  // batch 8: it wins (against the prior)
        assertThat(speculatedSteps(gate, 8, 3.0, 2.0, 100)).isGreaterThanOrEqualTo(100 - 100 / MeasuredSpeculationGate.EXPLORE_EVERY);
    }

    /** Where the nearest smaller learnt batch size found speculation faster, a new one learns both modes in turn. */
    @Test
    void aSmallerBatchWhereSpeculationWonLeavesLearningAsBefore() {
        SpeculationGate gate = SpeculationGate.measured();
        speculatedSteps(gate, 1, 1.0, 2.0, 64);  // batch 1: speculation loses
        speculatedSteps(gate, 2, 3.0, 2.0, 200);  // batch 2-3: it wins (learnt despite batch 1's prior)
        assertThat(firstChoices(gate, 4, 6)).isEqualTo("SPSPSP");
    }

    @Test
    void fixedGatesFollowTheirLimit() {
        assertThat(SpeculationGate.always().speculate(1_000_000)).isTrue();
        assertThat(SpeculationGate.upTo(0).speculate(1)).isFalse();
        assertThat(SpeculationGate.upTo(3).speculate(3)).isTrue();
        assertThat(SpeculationGate.upTo(3).speculate(4)).isFalse();
    }
}
