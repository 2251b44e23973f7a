package io.qspec.examples.eval;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import java.util.ArrayList;
import java.util.List;

/**
 * Does QSpec keep W4A16's output exactly, how often are drafts accepted, and how far do plain
 * W4A8/W4A4 drift? Greedy generation per prompt in every mode, compared token by token.
 */
final class FidelityEvaluation {
    private FidelityEvaluation() {
    }

    /** One prompt's comparison. {@code firstDivergence*} is -1 when the outputs agree throughout. */
    record PromptFidelity(String prompt, int tokens, boolean qspecA8Equal, boolean qspecA4Equal,
                          int firstDivergenceW4A8, int firstDivergenceW4A4) {
    }

    /** Acceptance of one draft precision at one γ over the prompt set. */
    record Acceptance(String draft, int gamma, long drafted, long accepted, double meanTokensPerRound) {
        double rate() {
            return drafted == 0 ? 0 : (double) accepted / drafted;
        }
    }

    record Report(List<PromptFidelity> prompts, List<Acceptance> acceptance) {
        double qspecEqualShare() {
            long equal = prompts.stream().filter(p -> p.qspecA8Equal() && p.qspecA4Equal()).count();
            return prompts.isEmpty() ? 0 : (double) equal / prompts.size();
        }
    }

    static Report run(QSpecEngine engine, List<String> prompts, int maxTokens, int[] gammas) {
        List<PromptFidelity> rows = new ArrayList<>();
        List<Acceptance> acceptance = new ArrayList<>();
        long[][] drafted = new long[2][gammas.length];
        long[][] accepted = new long[2][gammas.length];
        long[][] rounds = new long[2][gammas.length];
        for (String prompt : prompts) {
            int[] reference = generate(engine, prompt, maxTokens, DecodingMode.plain(Precision.W4A16)).tokenIds();
            int[] a8 = generate(engine, prompt, maxTokens, DecodingMode.plain(Precision.W4A8)).tokenIds();
            int[] a4 = generate(engine, prompt, maxTokens, DecodingMode.plain(Precision.W4A4)).tokenIds();
            boolean[] equal = {true, true};
            for (int d = 0; d < 2; d++) {
                DraftMode base = d == 0 ? DraftMode.a8() : DraftMode.a4();
                for (int g = 0; g < gammas.length; g++) {
                    GenerationResult r = generate(engine, prompt, maxTokens, DecodingMode.qspec(base.withGamma(gammas[g])));
                    equal[d] &= java.util.Arrays.equals(r.tokenIds(), reference);
                    drafted[d][g] += r.speculation().drafted();
                    accepted[d][g] += r.speculation().accepted();
                    rounds[d][g] += r.speculation().rounds();
                }
            }
            rows.add(new PromptFidelity(prompt, reference.length, equal[0], equal[1],
                    firstDivergence(reference, a8), firstDivergence(reference, a4)));
        }
        for (int d = 0; d < 2; d++) {
            for (int g = 0; g < gammas.length; g++) {
                acceptance.add(new Acceptance(d == 0 ? "a8" : "a4", gammas[g], drafted[d][g], accepted[d][g],
                        rounds[d][g] == 0 ? 0 : (double) (accepted[d][g] + rounds[d][g]) / rounds[d][g]));
            }
        }
        return new Report(rows, acceptance);
    }

    private static GenerationResult generate(QSpecEngine engine, String prompt, int maxTokens, DecodingMode mode) {
        return engine.generate(GenerationRequest.builder(prompt).maxTokens(maxTokens).mode(mode).build());
    }

    /** First index where the two sequences differ (including one ending early), or -1. */
    static int firstDivergence(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        for (int i = 0; i < n; i++) {
            if (a[i] != b[i]) {
                return i;
            }
        }
        return a.length == b.length ? -1 : n;
    }
}
