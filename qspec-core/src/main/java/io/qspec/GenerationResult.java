package io.qspec;

/**
 * The outcome of one {@link GenerationRequest}.
 *
 * @param text            the generated text (prompt excluded)
 * @param tokenIds        the generated token ids (prompt excluded; a final EOS is included)
 * @param finishReason    why generation stopped
 * @param promptTokens    number of prompt tokens processed
 * @param mode            how it was decoded
 * @param backend         the backend that ran it ({@code cpu}, {@code cuda})
 * @param timings         where the time went
 * @param speculation     draft/verify statistics ({@link SpeculationStats#NONE} for plain decoding)
 */
public record GenerationResult(
        String text,
        int[] tokenIds,
        FinishReason finishReason,
        int promptTokens,
        DecodingMode mode,
        String backend,
        Timings timings,
        SpeculationStats speculation) {

    public GenerationResult {
        tokenIds = tokenIds.clone();
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    public int generatedTokens() {
        return tokenIds.length;
    }

    /** Generated tokens per second of decode time (prefill excluded). */
    public double tokensPerSecond() {
        return timings.decodeTokensPerSecond(tokenIds.length);
    }
}
