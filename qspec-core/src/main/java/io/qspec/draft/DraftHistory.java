package io.qspec.draft;

/**
 * What one request's speculation has achieved so far: an exponential moving average of accepted
 * draft tokens per round. Owned by the engine, one per request; read by {@link DraftLengthPolicy}.
 */
public final class DraftHistory {
    /** Weight of the newest round in the moving average. */
    static final double SMOOTHING = 0.3;

    private double meanAccepted = Double.NaN;
    private int rounds;

    /** Records a round that drafted {@code drafted} tokens of which {@code accepted} were kept. */
    public void record(int drafted, int accepted) {
        meanAccepted = rounds == 0 ? accepted : (1 - SMOOTHING) * meanAccepted + SMOOTHING * accepted;
        rounds++;
    }

    /** Moving average of accepted draft tokens per round; NaN before the first round. */
    public double meanAccepted() {
        return meanAccepted;
    }

    public int rounds() {
        return rounds;
    }
}
