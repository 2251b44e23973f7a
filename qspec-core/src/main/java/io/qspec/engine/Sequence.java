package io.qspec.engine;

import io.qspec.DecodingMode;
import io.qspec.FinishReason;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.SpeculationStats;
import io.qspec.StreamHandler;
import io.qspec.Timings;
import io.qspec.accept.AcceptancePolicy;
import io.qspec.accept.RejectionSamplingAcceptance;
import io.qspec.accept.StrictGreedyAcceptance;
import io.qspec.draft.DraftHistory;
import io.qspec.generation.Utf8StreamDecoder;
import io.qspec.kv.KvCache;
import io.qspec.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * One request inside the scheduler: its cache, the newest committed token ({@link #next}, not yet
 * in the cache), its text so far, and its statistics. Touched only by the scheduler thread, except
 * {@link #cancel()}.
 */
final class Sequence {
    private static final System.Logger LOG = System.getLogger("io.qspec");
    final GenerationRequest request;
    final int[] prompt;
    final StreamHandler handler;
    final CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    final SequenceSampler sampler;
    final int reservedPositions;
    final DraftHistory draftHistory = new DraftHistory();
    private final Tokenizer tokenizer;
    private final int eos;
    private final int limit;
    private final Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
    private final StringBuilder text = new StringBuilder();
    private final int stopHoldBack;
    private final int[] stopTokenIds;
    private int emitted;
    private final SpeculationCounter speculation = new SpeculationCounter();
    private volatile boolean cancelled;
    /** What the caller's {@link StreamHandler#onText} threw: the request stops and fails with it. */
    private Throwable handlerError;

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
        this.sampler = new SequenceSampler(request.sampling(), prompt);
        this.eos = request.ignoreEos() ? -1 : tokenizer.eosId().orElse(-1);
        this.limit = Math.min(request.maxTokens(), contextLength - prompt.length);
        this.stopTokenIds = request.stopTokenIds();
        this.stopHoldBack = request.stopStrings().stream().mapToInt(String::length).max().orElse(1) - 1;
        int lookahead = request.mode() instanceof DecodingMode.Speculative s ? s.draft().gamma() + 1 : 1;
        this.reservedPositions = (int) Math.min(contextLength, (long) prompt.length + request.maxTokens() + lookahead);
    }

    /** The precision prompt processing runs in: the plain precision, or W4A16 for QSpec. */
    Precision prefillPrecision() {
        return request.mode() instanceof DecodingMode.Plain p ? p.precision() : Precision.W4A16;
    }

    /**
     * The acceptance policy this request's rounds use: the mode's, except that the default strict
     * greedy policy becomes rejection sampling when the request samples (temperature &gt; 0), so
     * that sampling stays lossless.
     */
    AcceptancePolicy acceptance(DecodingMode.Speculative mode) {
        if (mode.acceptance() == StrictGreedyAcceptance.INSTANCE && !request.sampling().isGreedy()) {
            return RejectionSamplingAcceptance.INSTANCE;
        }
        return mode.acceptance();
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
        sampler.append(token);
        // a model whose embedding is padded past its tokenizer (common in checkpoints) may pick a padding id: no text
        text.append(utf8.feed(token < tokenizer.vocabSize() ? tokenizer.tokenBytes(token) : new byte[0]));
        if (stopStringFound()) {
            return;
        }
        emitUpTo(text.length() - stopHoldBack);
        if (token == eos) {
            finishReason = FinishReason.EOS;
        } else if (isStopToken(token)) {
            finishReason = FinishReason.STOP_TOKEN;
        } else if (count >= request.maxTokens()) {
            finishReason = FinishReason.MAX_TOKENS;
        } else if (count >= limit) {
            finishReason = FinishReason.CONTEXT_FULL;
        }
    }

    private boolean isStopToken(int token) {
        for (int stop : stopTokenIds) {
            if (stop == token) {
                return true;
            }
        }
        return false;
    }

    /** Ends the request at the first stop string, cutting the text before it. */
    private boolean stopStringFound() {
        int from = Math.max(0, emitted - stopHoldBack);
        int best = -1;
        for (String stop : request.stopStrings()) {
            int at = text.indexOf(stop, from);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        if (best < 0) {
            return false;
        }
        text.setLength(best);
        emitUpTo(best);
        finishReason = FinishReason.STOP_STRING;
        return true;
    }

    /** Sends text up to {@code end} (held back while it could still be the start of a stop string). */
    private void emitUpTo(int end) {
        if (end > emitted && handlerError == null) {
            String piece = text.substring(emitted, end);
            emitted = end;
            try {
                handler.onText(piece);
            } catch (Throwable e) {  // Errors too: the caller's code must not take the engine's thread with it
                // the caller's code failed, not the pass: this request stops (and fails with it), the batch goes on
                handlerError = e;
                cancelled = true;
            }
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
        if (finishReason != FinishReason.STOP_STRING) {
            text.append(utf8.flush());
            if (!stopStringFound()) {  // the flushed bytes (a replacement character) may complete a stop string
                emitUpTo(text.length());
            }
        }
        int[] out = Arrays.copyOf(tokens, count);
        long now = System.nanoTime();
        long queue = prefillStartNanos == 0 ? now - submittedNanos : prefillStartNanos - submittedNanos;
        long decode = decodeStartNanos == 0 ? 0 : now - decodeStartNanos;
        if (handlerError != null) {
            fail(handlerError);
            return;
        }
        GenerationResult result = new GenerationResult(text.toString(), out, finishReason, prompt.length,
                request.mode(), backend, new Timings(queue, prefillNanos, decode, draftNanos, verifyNanos, firstTokenNanos),
                speculation.stats());
        try {
            handler.onComplete(result);
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.WARNING, "a StreamHandler's onComplete threw (the result stands): " + e);
        }
        future.complete(result);
    }

    /** Fails the request with {@code error}; whatever the caller's handler does, the future completes. */
    void fail(Throwable error) {
        releaseCache();
        try {
            handler.onError(error);
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.WARNING, "a StreamHandler's onError threw: " + e);
        }
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
