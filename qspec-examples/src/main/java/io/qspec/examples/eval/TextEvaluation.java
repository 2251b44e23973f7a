package io.qspec.examples.eval;

import io.qspec.Precision;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.SequenceInput;
import io.qspec.engine.TokenChoice;
import io.qspec.kv.KvCache;
import java.util.ArrayList;
import java.util.List;

/**
 * Teacher-forced measurements over a text: perplexity of each mode, and — in QSpec's own regime,
 * where the context's K/V always comes from the verify precision — the top-1 agreement and the
 * joint distribution of top-1 probabilities between a draft precision and W4A16 (the paper's Figure 2).
 */
final class TextEvaluation {
    private TextEvaluation() {
    }

    /** Perplexity of {@code precision} on {@code tokens} (first token is the context start; window = context length). */
    static double perplexity(ModelRunner runner, int[] tokens, Precision precision) {
        int window = Math.min(runner.model().config().contextLength(), 512);
        double nll = 0;
        long count = 0;
        for (int start = 0; start + 1 < tokens.length; start += window - 1) {
            int end = Math.min(tokens.length, start + window);
            int[] chunk = java.util.Arrays.copyOfRange(tokens, start, end - 1);
            try (KvCache cache = runner.newCache(chunk.length)) {
                Logits logits = runner.forward(List.of(new SequenceInput(cache, chunk, true)), precision);
                for (int i = 0; i < chunk.length; i++) {
                    float[] p = TokenChoice.softmax(logits.row(0, i));
                    nll -= Math.log(Math.max(p[tokens[start + i + 1]], 1e-30f));
                    count++;
                }
            }
            if (end == tokens.length) {
                break;
            }
        }
        return Math.exp(nll / count);
    }

    /** Top-1 probability of the draft and of the verify precision at one position, and whether their argmax agree. */
    record Top1Pair(float draftTop1, float verifyTop1, boolean agree) {
    }

    /**
     * For each position: W4A16 context, then the draft precision on the token (as a QSpec draft step
     * sees it), then W4A16 on the same token (as the verify pass sees it).
     */
    static List<Top1Pair> top1Pairs(ModelRunner runner, int[] tokens, Precision draft) {
        int n = Math.min(tokens.length, runner.model().config().contextLength() - 1);
        List<Top1Pair> pairs = new ArrayList<>();
        try (KvCache cache = runner.newCache(n)) {
            for (int i = 0; i < n; i++) {
                int[] one = {tokens[i]};
                float[] d = runner.forward(List.of(new SequenceInput(cache, one, false)), draft).row(0, 0);
                cache.truncate(i);
                float[] v = runner.forward(List.of(new SequenceInput(cache, one, false)), Precision.W4A16).row(0, 0);
                int da = TokenChoice.argmax(d);
                int va = TokenChoice.argmax(v);
                pairs.add(new Top1Pair(TokenChoice.softmax(d)[da], TokenChoice.softmax(v)[va], da == va));
            }
        }
        return pairs;
    }
}
