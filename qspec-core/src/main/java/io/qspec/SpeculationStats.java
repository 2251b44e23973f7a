package io.qspec;

/**
 * What speculation achieved for one request.
 *
 * @param rounds             draft/verify rounds run
 * @param drafted            draft tokens proposed in total
 * @param accepted           draft tokens the verify pass accepted
 * @param acceptedByPosition {@code acceptedByPosition[i]}: rounds whose draft token at position i was accepted
 * @param draftedByPosition  {@code draftedByPosition[i]}: rounds that drafted a token at position i
 */
public record SpeculationStats(int rounds, long drafted, long accepted, long[] acceptedByPosition, long[] draftedByPosition) {
    public static final SpeculationStats NONE = new SpeculationStats(0, 0, 0, new long[0], new long[0]);

    public SpeculationStats {
        acceptedByPosition = acceptedByPosition.clone();
        draftedByPosition = draftedByPosition.clone();
    }

    /** accepted / drafted, or 0 when nothing was drafted. */
    public double acceptanceRate() {
        return drafted == 0 ? 0 : (double) accepted / drafted;
    }

    /** Acceptance rate of draft position {@code i} (0-based). */
    public double acceptanceRateAt(int i) {
        return i >= draftedByPosition.length || draftedByPosition[i] == 0 ? 0 : (double) acceptedByPosition[i] / draftedByPosition[i];
    }

    /** Tokens committed per round on average (accepted drafts plus the recovered or bonus token). */
    public double meanTokensPerRound() {
        return rounds == 0 ? 0 : (double) (accepted + rounds) / rounds;
    }

    @Override
    public long[] acceptedByPosition() {
        return acceptedByPosition.clone();
    }

    @Override
    public long[] draftedByPosition() {
        return draftedByPosition.clone();
    }
}
