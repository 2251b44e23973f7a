package io.qspec.engine;

import io.qspec.DecodingMode;
import io.qspec.FinishReason;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.SpeculationStats;
import io.qspec.StreamHandler;
import io.qspec.Timings;
import io.qspec.draft.DraftHistory;
import io.qspec.kv.KvCache;
import io.qspec.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * One request inside the scheduler: its cache, the newest committed token ({@link #next}, not yet
 * in the cache), what it has produced, and its statistics. Touched only by the scheduler thread,
 * except {@link #cancel()}.
 */
final class Sequence {
    final GenerationRequest request;
    final int[] prompt;
    final StreamHandler handler;
    final CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    final RandomGenerator random;
    final TokenSelector selector;
    final int reservedPositions;
    private final Tokenizer tokenizer;
    private final int eos;
    private final int limit;
    private final Utf8Stream text = new Utf8Stream();
    private final SpeculationCounter speculation = new SpeculationCounter();
    final DraftHistory draftHistory = new DraftHistory();
    private volatile boolean cancelled;

    KvCache cache;
    int next;
    private int[] tokens = new int[16];
    private int count;
    private FinishReason finishReason;
    private final long submittedNanos = System.nanoTime();
    private long prefillStartNanos;
    private long prefillNanos;
    private long firstTokenNanos;
    private long decodeStartNanos;
    private long draftNanos;
    private long verifyNanos;

    Sequence(GenerationRequest request, int[] prompt, StreamHandler handler, Tokenizer tokenizer, int contextLength) {
        this.request = request;
        this.prompt = prompt;
        this.handler = handler;
        this.tokenizer = tokenizer;
        this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(request.seed());
        this.selector = TokenSelector.greedy();
        this.eos = request.ignoreEos() ? -1 : tokenizer.eosId().orElse(-1);
        this.limit = Math.min(request.maxTokens(), contextLength - prompt.length);
        int lookahead = request.mode() instanceof DecodingMode.Speculative s ? s.draft().gamma() + 1 : 1;
        this.reservedPositions = (int) Math.min(contextLength, (long) prompt.length + request.maxTokens() + lookahead);
    }

    /** The precision prompt processing runs in: the plain precision, or W4A16 for QSpec. */
    Precision prefillPrecision() {
        return request.mode() instanceof DecodingMode.Plain p ? p.precision() : Precision.W4A16;
    }

    void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    boolean finished() {
        return finishReason != null;
    }

    /** Tokens the request may still produce. */
    int remaining() {
        return limit - count;
    }

    void prefilled(int firstToken, long startNanos, long nanos) {
        prefillStartNanos = startNanos;
        prefillNanos = nanos;
        decodeStartNanos = startNanos + nanos;
        commit(firstToken);
    }

    /** Appends a generated token, streams its text, and decides whether the request is done. */
    void commit(int token) {
        if (finishReason != null) {
            return;
        }
        if (count == 0) {
            firstTokenNanos = System.nanoTime() - submittedNanos;
        }
        if (count == tokens.length) {
            tokens = Arrays.copyOf(tokens, count * 2);
        }
        tokens[count++] = token;
        next = token;
        String piece = text.push(tokenizer.tokenBytes(token));
        if (!piece.isEmpty()) {
            handler.onText(piece);
        }
        if (token == eos) {
            finishReason = FinishReason.EOS;
        } else if (request.stopTokenIds().length > 0 && Arrays.stream(request.stopTokenIds()).anyMatch(s -> s == token)) {
            finishReason = FinishReason.STOP_TOKEN;
        } else if (count >= request.maxTokens()) {
            finishReason = FinishReason.MAX_TOKENS;
        } else if (count >= limit) {
            finishReason = FinishReason.CONTEXT_FULL;
        }
    }

    void recordRound(SpeculativeRound.Outcome outcome) {
        speculation.record(outcome.drafted(), outcome.accepted());
        draftHistory.record(outcome.drafted(), outcome.accepted());
        draftNanos += outcome.draftNanos();
        verifyNanos += outcome.verifyNanos();
        for (int t : outcome.tokens()) {
            commit(t);
        }
    }

    /** Completes the request (finished or cancelled): frees its KV memory at once, then reports. */
    void complete(String backend) {
        if (finishReason == null) {
            finishReason = FinishReason.CANCELLED;
        }
        releaseCache();
        String tail = text.flush();
        if (!tail.isEmpty()) {
            handler.onText(tail);
        }
        int[] out = Arrays.copyOf(tokens, count);
        long now = System.nanoTime();
        long queue = prefillStartNanos == 0 ? now - submittedNanos : prefillStartNanos - submittedNanos;
        long decode = decodeStartNanos == 0 ? 0 : now - decodeStartNanos;
        GenerationResult result = new GenerationResult(tokenizer.decode(out), out, finishReason, prompt.length,
                request.mode(), backend, new Timings(queue, prefillNanos, decode, draftNanos, verifyNanos, firstTokenNanos),
                speculation.stats());
        handler.onComplete(result);
        future.complete(result);
    }

    void fail(Throwable error) {
        releaseCache();
        handler.onError(error);
        future.completeExceptionally(error);
    }

    private void releaseCache() {
        if (cache != null) {
            cache.close();
            cache = null;
        }
    }

    /** Counts drafted and accepted tokens per draft position. */
    private static final class SpeculationCounter {
        private int rounds;
        private long drafted;
        private long accepted;
        private final long[] acceptedAt = new long[io.qspec.DraftMode.MAX_GAMMA];
        private final long[] draftedAt = new long[io.qspec.DraftMode.MAX_GAMMA];
        private int maxGamma;

        void record(int draftedTokens, int acceptedTokens) {
            rounds++;
            drafted += draftedTokens;
            accepted += acceptedTokens;
            maxGamma = Math.max(maxGamma, draftedTokens);
            for (int i = 0; i < draftedTokens; i++) {
                draftedAt[i]++;
                if (i < acceptedTokens) {
                    acceptedAt[i]++;
                }
            }
        }

        SpeculationStats stats() {
            return rounds == 0 ? SpeculationStats.NONE : new SpeculationStats(rounds, drafted, accepted,
                    Arrays.copyOf(acceptedAt, maxGamma), Arrays.copyOf(draftedAt, maxGamma));
        }
    }
}
