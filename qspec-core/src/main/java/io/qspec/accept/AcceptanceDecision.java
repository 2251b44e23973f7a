package io.qspec.accept;

/**
 * Outcome of one draft/verify round.
 *
 * @param accepted  how many leading draft tokens are kept, in [0, γ]
 * @param nextToken the token that follows them: recovered (accepted &lt; γ) or bonus (accepted = γ)
 */
public record AcceptanceDecision(int accepted, int nextToken) {
    public AcceptanceDecision {
        if (accepted < 0) {
            throw new IllegalArgumentException("accepted must be >= 0, got " + accepted);
        }
        if (nextToken < 0) {
            throw new IllegalArgumentException("nextToken must be a token id, got " + nextToken);
        }
    }

    /** Whether the next token is a bonus token (every draft accepted) rather than a recovered one. */
    public boolean isBonus(int gamma) {
        return accepted == gamma;
    }
}
