package io.qspec.draft;

/** Draft up to maxGamma, stopping after any token whose draft top-1 probability is below a threshold. */
final class ConfidenceDraftLength implements DraftLengthPolicy {
    private final float threshold;

    ConfidenceDraftLength(float threshold) {
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new IllegalArgumentException("confidence threshold must be in [0, 1], got " + threshold);
        }
        this.threshold = threshold;
    }

    @Override
    public int nextGamma(DraftHistory history, int maxGamma) {
        return maxGamma;
    }

    @Override
    public boolean keepDrafting(float topProbability) {
        return topProbability >= threshold;
    }

    @Override
    public boolean usesConfidence() {
        return true;
    }

    @Override
    public String name() {
        return "confidence-" + threshold;
    }
}
