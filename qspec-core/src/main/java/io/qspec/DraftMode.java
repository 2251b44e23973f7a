package io.qspec;

/**
 * How the draft phase runs: which low-precision activation scheme reads the shared 4-bit weights,
 * and how many tokens (γ) it proposes per round, one forward pass each.
 *
 * @param precision {@link Precision#W4A8} or {@link Precision#W4A4}
 * @param gamma     tokens drafted per round, 1..16 (the paper's default is 3)
 */
public record DraftMode(Precision precision, int gamma) {
    public static final int MAX_GAMMA = 16;

    public DraftMode {
        if (precision != Precision.W4A8 && precision != Precision.W4A4) {
            throw new IllegalArgumentException("draft precision must be W4A8 or W4A4 (it shares the 4-bit weights), got " + precision);
        }
        if (gamma < 1 || gamma > MAX_GAMMA) {
            throw new IllegalArgumentException("gamma must be in [1, " + MAX_GAMMA + "], got " + gamma);
        }
    }

    /** W4A8 draft with γ = 3. */
    public static DraftMode a8() {
        return new DraftMode(Precision.W4A8, 3);
    }

    /** W4A4 draft with γ = 3 (the paper's configuration). */
    public static DraftMode a4() {
        return new DraftMode(Precision.W4A4, 3);
    }

    public DraftMode withGamma(int newGamma) {
        return new DraftMode(precision, newGamma);
    }
}
