package io.qspec.examples.bench;

/**
 * The measurement of one mode at one batch size.
 *
 * @param mode                 mode name
 * @param gamma                draft length (0 for plain modes)
 * @param batch                requests kept in flight
 * @param requests             requests served
 * @param generatedTokens      tokens generated in all
 * @param seconds              wall time from first submit to last completion
 * @param tokensPerSecond      generated tokens / seconds
 * @param acceptanceRate       accepted / drafted (QSpec)
 * @param meanAcceptedLength   tokens committed per round (accepted + 1)
 * @param acceptanceByPosition acceptance rate per draft position
 * @param draftMsPerToken      draft time per generated token (per-valid-token latency, draft part)
 * @param verifyMsPerToken     verify time per generated token
 * @param msPerToken           decode time per generated token, per request, averaged
 */
record BenchResult(String mode, int gamma, int batch, int requests, long generatedTokens, double seconds,
                   double tokensPerSecond, double acceptanceRate, double meanAcceptedLength,
                   double[] acceptanceByPosition, double draftMsPerToken, double verifyMsPerToken, double msPerToken) {
}
