package io.qspec.draft;

/** γ is always the configured maximum. */
final class FixedDraftLength implements DraftLengthPolicy {
    static final FixedDraftLength INSTANCE = new FixedDraftLength();

    @Override
    public int nextGamma(DraftHistory history, int maxGamma) {
        return maxGamma;
    }

    @Override
    public String name() {
        return "fixed";
    }
}
