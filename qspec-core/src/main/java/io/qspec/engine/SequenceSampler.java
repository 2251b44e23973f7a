package io.qspec.engine;

import io.qspec.accept.PositionalProbabilities;
import io.qspec.sampling.LogitsProcessor;
import io.qspec.sampling.Sampler;
import io.qspec.sampling.SamplingParams;
import io.qspec.sampling.TokenCounts;
import io.qspec.sampling.TokenDraw;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * One request's token choice: its sampling parameters, its random source and its history (prompt
 * plus generated tokens, for the penalties). Greedy requests without penalties take the plain
 * argmax of the raw logits — the same rule in every mode, which keeps QSpec bit-exact.
 */
public final class SequenceSampler {
    private final LogitsProcessor processor;
    private final RandomGenerator random;
    private final boolean plainArgmax;
    private int[] history;
    private int length;
    /** Counts of the committed history, for the penalties; null until asked for since the last append. */
    private TokenCounts committedCounts;

    public SequenceSampler(SamplingParams params, int[] prompt) {
        this.processor = new LogitsProcessor(params);
        this.random = params.newRandom();
        this.plainArgmax = params.isGreedy() && !params.hasPenalties();
        this.history = Arrays.copyOf(prompt, prompt.length + 64);
        this.length = prompt.length;
    }

    /** Whether every choice is the plain argmax of the logits (greedy, no penalties): no host logits needed. */
    public boolean choosesArgmax() {
        return plainArgmax;
    }

    public RandomGenerator random() {
        return random;
    }

    /** Records a committed token (it joins the history the penalties see). */
    public void append(int token) {
        if (length == history.length) {
            history = Arrays.copyOf(history, length * 2);
        }
        history[length++] = token;
        committedCounts = null;
    }

    /** The next token after the committed history. */
    public int choose(float[] logits) {
        if (plainArgmax) {
            return TokenChoice.argmax(logits);
        }
        return nextDraw().choose(logits);
    }

    /**
     * The draw of the next token after the committed history, for a backend to take where the logits
     * are: it carries this request's next uniform variate (none is taken for a plain argmax), so the
     * random source advances exactly as {@link #choose} advances it.
     */
    public TokenDraw nextDraw() {
        if (plainArgmax) {
            return new TokenDraw(processor.params(), TokenCounts.EMPTY, 0);
        }
        TokenCounts counts = processor.params().hasPenalties() ? committedCounts() : TokenCounts.EMPTY;
        return new TokenDraw(processor.params(), counts, random.nextDouble());
    }

    /**
     * Draft token {@code i} of a round, after {@code drafts[0..i)}: drawn from the draft's
     * distribution when the acceptance policy samples, otherwise its most likely token.
     */
    public int draft(float[] logits, int[] drafts, int i, boolean sample) {
        if (plainArgmax && !sample) {
            return TokenChoice.argmax(logits);
        }
        float[] q = forRound(Arrays.copyOf(drafts, i)).probabilities(i, logits);
        return sample ? Sampler.sample(q, random) : TokenChoice.argmax(q);
    }

    /**
     * The draw of draft token {@code i} of a rejection-sampled round, after {@code drafts[0..i)}: the
     * filters, the history with those drafts, and the next variate — the one {@link #draft} would take.
     */
    public TokenDraw draftDraw(int[] drafts, int i) {
        return new TokenDraw(processor.params(), roundHistory(drafts, i), random.nextDouble());
    }

    /**
     * The γ+1 verify positions' draws of a rejection-sampled round that drafted {@code drafts}: position
     * {@code i}'s history and variate {@code uniforms[i]} ({@link io.qspec.accept.RejectionSamplingAcceptance#uniforms}).
     */
    public List<TokenDraw> verifyDraws(int[] drafts, double[] uniforms) {
        if (uniforms.length != drafts.length + 1) {
            throw new IllegalArgumentException("need γ+1 = " + (drafts.length + 1) + " variates, got " + uniforms.length);
        }
        List<TokenDraw> draws = new ArrayList<>(uniforms.length);
        for (int i = 0; i <= drafts.length; i++) {
            draws.add(new TokenDraw(processor.params(), roundHistory(drafts, i), uniforms[i]));
        }
        return draws;
    }

    /** The penalties' input at round position {@code i}: committed tokens, then {@code drafts[0..i)}. */
    private TokenCounts roundHistory(int[] drafts, int i) {
        if (!processor.params().hasPenalties()) {
            return TokenCounts.EMPTY;
        }
        return committedCounts().plus(drafts, i);
    }

    /** The committed history counted once per appended token, not once per draw. */
    private TokenCounts committedCounts() {
        if (committedCounts == null) {
            committedCounts = TokenCounts.of(committed());
        }
        return committedCounts;
    }

    /** The draft's confidence in its most likely token at round position {@code i}. */
    public float topProbability(float[] logits, int[] drafts, int i) {
        float[] q = plainArgmax ? TokenChoice.softmax(logits) : forRound(Arrays.copyOf(drafts, i)).probabilities(i, logits);
        return q[TokenChoice.argmax(q)];
    }

    /** The distribution function a policy compares draft and verify rows with, for a round that drafted {@code drafts}. */
    public PositionalProbabilities forRound(int[] drafts) {
        return processor.forRound(committed(), drafts);
    }

    private int[] committed() {
        return Arrays.copyOf(history, length);
    }
}
