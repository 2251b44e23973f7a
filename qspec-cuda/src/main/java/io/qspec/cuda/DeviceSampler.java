package io.qspec.cuda;

import io.qspec.cuda.ffm.QSpecKernels;
import io.qspec.cuda.ffm.qspec_draw;
import io.qspec.sampling.SamplingParams;
import io.qspec.sampling.TokenCounts;
import io.qspec.sampling.TokenDraw;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Draws tokens where the logits are ({@code qspec_sample}): each draw's parameters, penalty history and
 * uniform variate go up as a few hundred bytes, one token id per draw comes back, and no logit row
 * crosses to the host. Its device buffers grow with the largest batch seen and are reused.
 */
final class DeviceSampler {
    /** {@code qspec_sample}'s answer for a row holding NaN. */
    private static final int NAN_ROW = -1;
    /** Its answer for a row where no token is possible (every logit -infinity above temperature 0). */
    private static final int NO_TOKEN = -2;

    private final DeviceMemory memory;
    private final Kernels kernels;
    private final int vocab;
    private DeviceBuffer draws;
    private DeviceBuffer historyTokens;
    private DeviceBuffer historyCounts;
    private DeviceBuffer workspace;
    private DeviceBuffer tokens;
    private DeviceBuffer slots;
    private int drawCapacity;
    private int historyCapacity;

    DeviceSampler(DeviceMemory memory, Kernels kernels, int vocab) {
        this.memory = memory;
        this.kernels = kernels;
        this.vocab = vocab;
    }

    /**
     * Queues the draws: {@code draws.get(d)} from logit row {@code rowOf[d]} of {@code logits} ({@code rows}
     * rows of the vocabulary). Returns the device buffer the token ids will be in; read them, then pass
     * them to {@link #checked}.
     *
     * @throws IllegalArgumentException for a row outside the logits or a history token outside the vocabulary
     */
    DeviceBuffer enqueue(DeviceBuffer logits, int rows, int[] rowOf, List<TokenDraw> draws) {
        return enqueue(logits, rows, rowOf, draws, null);
    }

    /**
     * As {@link #enqueue(DeviceBuffer, int, int[], List)}, keeping draw {@code d}'s distribution in slot
     * {@code keep.slots()[d]} of {@code keep} ({@code qspec_sample_keep}) when {@code keep} is not null.
     *
     * @throws IllegalArgumentException also for a slot outside {@code keep} or named twice
     */
    DeviceBuffer enqueue(DeviceBuffer logits, int rows, int[] rowOf, List<TokenDraw> requested, KeptRows keep) {
        List<TokenDraw> draws = List.copyOf(requested);  // read once: what is checked is what is uploaded
        rowOf = rowOf.clone();
        int n = draws.size();
        if (keep != null) {
            keep.check(n);
        }
        if (rowOf.length != n) {
            throw new IllegalArgumentException(rowOf.length + " logit rows for " + n + " draws");
        }
        long historyTotal = 0;
        for (int d = 0; d < n; d++) {
            if (rowOf[d] < 0 || rowOf[d] >= rows) {
                throw new IllegalArgumentException("draw " + d + ": logit row " + rowOf[d] + " outside [0, " + rows + ")");
            }
            historyTotal += penaltyHistory(draws.get(d)).distinct();
        }
        validate(draws);  // again, though the runner checked before its pass: the kernel writes at these tokens
        ensure(n, (int) historyTotal);
        if (keep == null) {
            ensureWorkspace(n);  // kept draws work in their slots
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment structs = qspec_draw.allocateArray(n, arena);
            MemorySegment tokenIds = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, historyTotal));
            MemorySegment counts = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, historyTotal));
            int offset = 0;
            for (int d = 0; d < n; d++) {
                TokenDraw draw = draws.get(d);
                SamplingParams p = draw.params();
                TokenCounts history = penaltyHistory(draw);
                MemorySegment s = qspec_draw.asSlice(structs, d);
                qspec_draw.row(s, rowOf[d]);
                qspec_draw.top_k(s, p.topK());
                qspec_draw.history_offset(s, offset);
                qspec_draw.history_length(s, history.distinct());
                qspec_draw.temperature(s, p.temperature());
                qspec_draw.top_p(s, p.topP());
                qspec_draw.min_p(s, p.minP());
                qspec_draw.repetition_penalty(s, p.repetitionPenalty());
                qspec_draw.frequency_penalty(s, p.frequencyPenalty());
                qspec_draw.presence_penalty(s, p.presencePenalty());
                qspec_draw.uniform(s, draw.uniform());
                for (int i = 0; i < history.distinct(); i++, offset++) {
                    tokenIds.setAtIndex(ValueLayout.JAVA_INT, offset, history.token(i));
                    counts.setAtIndex(ValueLayout.JAVA_INT, offset, history.countAt(i));
                }
            }
            memory.copyToDevice(structs, this.draws, 0);
            if (keep != null) {
                MemorySegment slots = arena.allocate(ValueLayout.JAVA_INT, n);
                MemorySegment.copy(keep.slots(), 0, slots, ValueLayout.JAVA_INT, 0, n);
                memory.copyToDevice(slots, this.slots, 0);
            }
            if (historyTotal > 0) {
                memory.copyToDevice(tokenIds, historyTokens, 0);
                memory.copyToDevice(counts, historyCounts, 0);
            }
        }
        if (keep == null) {
            kernels.sample(logits, rows, vocab, this.draws, n, historyTokens, historyCounts, workspace, tokens);
        } else {
            kernels.sampleKeep(logits, rows, vocab, this.draws, n, historyTokens, historyCounts, slots, keep.kept(),
                    keep.totals(), keep.capacity(), tokens);
        }
        return tokens;
    }

    /**
     * Where {@code qspec_sample_keep} keeps distributions: {@code capacity} slots of the vocabulary in
     * {@code kept}, their totals in {@code totals}, and the slot of each draw of one call.
     */
    record KeptRows(DeviceBuffer kept, DeviceBuffer totals, int capacity, int[] slots) {
        /** The slots must name one distinct slot inside the buffers per draw: the kernel writes there. */
        void check(int draws) {
            if (slots.length != draws) {
                throw new IllegalArgumentException(slots.length + " kept slots for " + draws + " draws");
            }
            boolean[] used = new boolean[capacity];
            for (int slot : slots) {
                if (slot < 0 || slot >= capacity) {
                    throw new IllegalArgumentException("kept slot " + slot + " outside [0, " + capacity + ")");
                }
                if (used[slot]) {
                    throw new IllegalArgumentException("kept slot " + slot + " named twice in one call");
                }
                used[slot] = true;
            }
        }
    }

    /**
     * Checks what the kernel trusts: every penalty history token inside the vocabulary, and the step's
     * history small enough to index. Call it before queuing the pass, so a refused step changes nothing.
     */
    void validate(List<TokenDraw> draws) {
        long historyTotal = 0;
        for (TokenDraw draw : draws) {
            TokenCounts history = penaltyHistory(draw);
            for (int i = 0; i < history.distinct(); i++) {
                if (history.token(i) < 0 || history.token(i) >= vocab) {
                    throw new IllegalArgumentException("history token " + history.token(i) + " outside vocabulary of " + vocab);
                }
            }
            historyTotal += history.distinct();
        }
        if (historyTotal > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException(historyTotal + " history tokens in one sampling step; at most "
                    + Integer.MAX_VALUE / 4);
        }
    }

    /**
     * The tokens read back from {@link #enqueue}'s buffer, with the kernel's refusals turned into the
     * exceptions the host's sampler throws.
     */
    static int[] checked(int[] tokens) {
        for (int d = 0; d < tokens.length; d++) {
            if (tokens[d] == NAN_ROW) {
                throw new IllegalArgumentException("draw " + d + ": logits contain NaN");
            }
            if (tokens[d] == NO_TOKEN) {
                throw new IllegalArgumentException("draw " + d + ": every logit is -infinity; no token is possible");
            }
        }
        return tokens;
    }

    /** The penalties' input, or none when the draw has no penalties (nothing to upload). */
    private static TokenCounts penaltyHistory(TokenDraw draw) {
        return draw.params().hasPenalties() ? draw.history() : TokenCounts.EMPTY;
    }

    /** Scratch rows for {@code n} plain draws (grown like the other buffers, separately: kept draws need none). */
    private void ensureWorkspace(int n) {
        long bytes = QSpecKernels.qspec_sample_workspace_bytes(n, vocab);
        if (workspace == null || workspace.bytes() < bytes) {
            long grown = Math.max(bytes, workspace == null ? 0 : 2 * workspace.bytes());
            free(workspace);
            workspace = null;
            workspace = memory.allocate(grown, "sampling workspace");
        }
    }

    private void ensure(int n, int historyEntries) {
        if (n > drawCapacity) {
            int capacity = Math.max(n, 2 * drawCapacity);
            free(draws, tokens, slots);
            draws = null;
            tokens = null;
            slots = null;
            drawCapacity = 0;
            draws = memory.allocate(capacity * qspec_draw.sizeof(), "sampling draws");
            tokens = memory.allocate((long) capacity * 4, "sampled tokens");
            slots = memory.allocate((long) capacity * 4, "kept slots");
            drawCapacity = capacity;
        }
        if (historyTokens == null || historyEntries > historyCapacity) {
            int capacity = Math.max(Math.max(historyEntries, 1024), 2 * historyCapacity);
            free(historyTokens, historyCounts);
            historyTokens = null;
            historyCounts = null;
            historyCapacity = 0;
            historyTokens = memory.allocate((long) capacity * 4, "penalty history tokens");
            historyCounts = memory.allocate((long) capacity * 4, "penalty history counts");
            historyCapacity = capacity;
        }
    }

    private void free(DeviceBuffer... buffers) {
        for (DeviceBuffer b : buffers) {
            if (b != null) {
                memory.free(b);
            }
        }
    }
}
