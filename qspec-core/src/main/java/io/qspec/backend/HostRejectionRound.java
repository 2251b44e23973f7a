package io.qspec.backend;

import io.qspec.Precision;
import io.qspec.accept.AcceptanceDecision;
import io.qspec.accept.RejectionSamplingAcceptance;
import io.qspec.sampling.LogitsProcessor;
import io.qspec.sampling.Sampler;
import io.qspec.sampling.TokenDraw;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link RejectionRound} on the host: the logits come back from {@link ModelRunner#forward}, the draft
 * distributions are kept as float rows, and {@link RejectionSamplingAcceptance#decide} decides. What a
 * backend with host-resident logits (the CPU) uses.
 */
final class HostRejectionRound implements RejectionRound {
    private final ModelRunner runner;
    /** draftDistributions.get(lane).get(i): the distribution lane's draft i was drawn from. */
    private final List<List<float[]>> draftDistributions;
    private final List<List<Integer>> draftTokens;
    private final int maxGamma;

    HostRejectionRound(ModelRunner runner, int lanes, int maxGamma) {
        this.runner = runner;
        this.maxGamma = maxGamma;
        this.draftDistributions = new ArrayList<>(lanes);
        this.draftTokens = new ArrayList<>(lanes);
        for (int s = 0; s < lanes; s++) {
            draftDistributions.add(new ArrayList<>());
            draftTokens.add(new ArrayList<>());
        }
    }

    @Override
    public int[] draft(List<SequenceInput> batch, Precision precision, int[] lanes, List<TokenDraw> draws) {
        RejectionRounds.checkDraft(batch, lanes, draws, draftTokens.size(), maxGamma, lane -> draftTokens.get(lane).size());
        Logits logits = runner.forward(batch, precision);
        int[] tokens = new int[batch.size()];
        for (int b = 0; b < tokens.length; b++) {
            TokenDraw draw = draws.get(b);
            float[] q = new LogitsProcessor(draw.params()).probabilities(logits.row(b, batch.get(b).logitRows() - 1), draw.history());
            tokens[b] = Sampler.sample(q, draw.uniform());
            draftDistributions.get(lanes[b]).add(q);
            draftTokens.get(lanes[b]).add(tokens[b]);
        }
        return tokens;
    }

    @Override
    public AcceptanceDecision[] verify(List<SequenceInput> batch, List<List<TokenDraw>> draws) {
        RejectionRounds.checkVerify(batch, draws, draftTokens.size(), lane -> draftTokens.get(lane).stream().mapToInt(Integer::intValue).toArray());
        Logits logits = runner.forward(batch, Precision.W4A16);
        AcceptanceDecision[] decisions = new AcceptanceDecision[batch.size()];
        for (int s = 0; s < decisions.length; s++) {
            int lane = s;
            List<TokenDraw> positions = draws.get(s);
            int gamma = positions.size() - 1;
            double[] uniforms = new double[gamma + 1];
            for (int i = 0; i <= gamma; i++) {
                uniforms[i] = positions.get(i).uniform();
            }
            int[] drafts = draftTokens.get(s).stream().mapToInt(Integer::intValue).toArray();
            decisions[s] = RejectionSamplingAcceptance.decide(drafts, i -> draftDistributions.get(lane).get(i),
                    i -> new LogitsProcessor(positions.get(i).params()).probabilities(logits.row(lane, i), positions.get(i).history()),
                    uniforms);
        }
        return decisions;
    }

    @Override
    public void close() {
        draftDistributions.clear();
        draftTokens.clear();
    }
}
