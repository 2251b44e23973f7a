package io.qspec.draft;

/**
 * γ = round(mean accepted) + 1, clamped to [1, maxGamma]: long drafts while the draft keeps being
 * right, short ones (less wasted draft work) after rejections. Starts at maxGamma.
 */
final class AdaptiveDraftLength implements DraftLengthPolicy {
    static final AdaptiveDraftLength INSTANCE = new AdaptiveDraftLength();

    @Override
    public int nextGamma(DraftHistory history, int maxGamma) {
        if (history.rounds() == 0) {
            return maxGamma;
        }
        long gamma = Math.round(history.meanAccepted()) + 1;
        return (int) Math.max(1, Math.min(maxGamma, gamma));
    }

    @Override
    public String name() {
        return "adaptive";
    }
}
