package io.qspec.cuda;

import io.qspec.Precision;
import io.qspec.accept.AcceptanceDecision;
import io.qspec.backend.RejectionRound;
import io.qspec.backend.RejectionRounds;
import io.qspec.backend.SequenceInput;
import io.qspec.cuda.ffm.qspec_rejection;
import io.qspec.sampling.TokenDraw;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Rejection-sampled speculative rounds on the GPU ({@link RejectionRound}): each draft pass draws its
 * tokens with {@code qspec_sample_keep}, which leaves the distribution q<sub>i</sub> of every draw in a
 * slot of device memory; the verify pass keeps p<sub>0..γ</sub> the same way and
 * {@code qspec_rejection_sample} decides every lane. Per round, the draws' parameters and variates go up
 * and token ids come back; no logit row crosses to the host.
 *
 * <p>Slots: lane {@code l}'s draft {@code i} at {@code l·γmax + i}, its verify position {@code i} at
 * {@code lanes·γmax + l·(γmax+1) + i}. The buffers grow between rounds and are reused.
 */
final class DeviceRejectionSampler {
    /** Runs one pass and queues kernels that read its logits, on the runner's stream. */
    interface PassWithLogits {
        /**
         * @param use given the pass's logit buffer, its row count and each sequence's first logit row;
         *            queues work and returns what it read back
         */
        <T> T run(List<SequenceInput> batch, Precision precision, LogitsReader<T> use);
    }

    interface LogitsReader<T> {
        T read(DeviceBuffer logits, int rows, int[] firstRow);
    }

    /** Waits for the stream and reads {@code count} ints from the start of a buffer. */
    interface IntDownload {
        int[] read(DeviceBuffer src, int count);
    }

    private final DeviceMemory memory;
    private final Kernels kernels;
    private final DeviceSampler sampler;
    private final PassWithLogits passes;
    private final IntDownload download;
    private final int vocab;
    private DeviceBuffer kept;
    private DeviceBuffer totals;
    private int slotCapacity;
    private DeviceBuffer lanes;
    private DeviceBuffer draftTokens;
    private DeviceBuffer draftSlots;
    private DeviceBuffer verifySlots;
    private DeviceBuffer uniforms;
    private DeviceBuffer decisions;
    private int laneCapacity;
    private int entryCapacity;
    private boolean roundOpen;

    DeviceRejectionSampler(DeviceMemory memory, Kernels kernels, DeviceSampler sampler, PassWithLogits passes,
                           IntDownload download, int vocab) {
        this.memory = memory;
        this.kernels = kernels;
        this.sampler = sampler;
        this.passes = passes;
        this.download = download;
        this.vocab = vocab;
    }

    /** A new round; the runner's previous round must be closed. */
    RejectionRound newRound(int laneCount, int maxGamma) {
        RejectionRounds.checkShape(laneCount, maxGamma);
        if (roundOpen) {
            throw new IllegalStateException("a rejection-sampled round is still open on this runner; close it first");
        }
        ensure(laneCount, maxGamma);
        roundOpen = true;
        return new Round(laneCount, maxGamma);
    }

    private final class Round implements RejectionRound {
        private final int laneCount;
        private final int maxGamma;
        private final int[][] drafts;
        private final int[] drafted;
        private boolean closed;

        Round(int laneCount, int maxGamma) {
            this.laneCount = laneCount;
            this.maxGamma = maxGamma;
            this.drafts = new int[laneCount][maxGamma];
            this.drafted = new int[laneCount];
        }

        private DeviceSampler.KeptRows keep(int[] slots) {
            return new DeviceSampler.KeptRows(kept, totals, slotCapacity, slots);
        }

        @Override
        public int[] draft(List<SequenceInput> batch, Precision precision, int[] laneIds, List<TokenDraw> draws) {
            requireOpen();
            RejectionRounds.checkDraft(batch, laneIds, draws, laneCount, maxGamma, lane -> drafted[lane]);
            sampler.validate(draws);
            int[] slots = new int[laneIds.length];
            for (int b = 0; b < slots.length; b++) {
                slots[b] = laneIds[b] * maxGamma + drafted[laneIds[b]];
            }
            int[] tokens = passes.run(batch, precision, (logits, rows, firstRow) -> {
                int[] lastRow = new int[batch.size()];
                for (int b = 0; b < lastRow.length; b++) {
                    lastRow[b] = firstRow[b] + batch.get(b).logitRows() - 1;
                }
                DeviceBuffer out = sampler.enqueue(logits, rows, lastRow, draws, keep(slots));
                return DeviceSampler.checked(download.read(out, batch.size()));
            });
            for (int b = 0; b < tokens.length; b++) {
                int lane = laneIds[b];
                drafts[lane][drafted[lane]++] = tokens[b];
            }
            return tokens;
        }

        @Override
        public AcceptanceDecision[] verify(List<SequenceInput> batch, List<List<TokenDraw>> draws) {
            requireOpen();
            RejectionRounds.checkVerify(batch, draws, laneCount, lane -> Arrays.copyOf(drafts[lane], drafted[lane]));
            List<TokenDraw> flat = new ArrayList<>();
            draws.forEach(flat::addAll);
            sampler.validate(flat);
            int draftEntries = 0;
            for (int lane = 0; lane < laneCount; lane++) {
                draftEntries += drafted[lane];
            }
            int verifyEntries = flat.size();
            int[] verifySlotOf = new int[verifyEntries];
            int[] draftSlotOf = new int[draftEntries];
            int[] draftTokenOf = new int[draftEntries];
            double[] uniformOf = new double[verifyEntries];
            int[] draftOffset = new int[laneCount];
            int[] verifyOffset = new int[laneCount];
            for (int lane = 0, d = 0, v = 0; lane < laneCount; lane++) {
                draftOffset[lane] = d;
                verifyOffset[lane] = v;
                for (int i = 0; i < drafted[lane]; i++, d++) {
                    draftSlotOf[d] = lane * maxGamma + i;
                    draftTokenOf[d] = drafts[lane][i];
                }
                for (int i = 0; i <= drafted[lane]; i++, v++) {
                    verifySlotOf[v] = laneCount * maxGamma + lane * (maxGamma + 1) + i;
                    uniformOf[v] = draws.get(lane).get(i).uniform();
                }
            }
            for (int token : draftTokenOf) {
                if (token < 0 || token >= vocab) {  // drawn by the device, checked on the way back: never
                    throw new IllegalStateException("draft token " + token + " outside vocabulary of " + vocab);
                }
            }
            int entries = draftEntries;
            int[] decided = passes.run(batch, Precision.W4A16, (logits, rows, firstRow) -> {
                int[] rowOf = new int[verifyEntries];
                for (int lane = 0, v = 0; lane < laneCount; lane++) {
                    for (int i = 0; i <= drafted[lane]; i++, v++) {
                        rowOf[v] = firstRow[lane] + i;
                    }
                }
                sampler.enqueue(logits, rows, rowOf, flat, keep(verifySlotOf));
                upload(drafted, draftOffset, verifyOffset, draftTokenOf, draftSlotOf, verifySlotOf, uniformOf);
                kernels.rejectionSample(kept, totals, slotCapacity, vocab, lanes, laneCount, draftTokens, draftSlots,
                        entries, verifySlots, uniforms, verifyEntries, decisions.slice(0, 4L * laneCount),
                        decisions.slice(4L * laneCount, 4L * laneCount));
                return download.read(decisions, 2 * laneCount);
            });
            AcceptanceDecision[] out = new AcceptanceDecision[laneCount];
            for (int lane = 0; lane < laneCount; lane++) {
                int accepted = decided[lane];
                int next = decided[laneCount + lane];
                if (next < 0) {
                    throw new IllegalArgumentException("lane " + lane + ": a distribution of the round could not be"
                            + " formed (NaN logits, or every logit -infinity)");
                }
                if (accepted < 0 || accepted > drafted[lane] || next >= vocab) {
                    throw new IllegalStateException("qspec_rejection_sample answered (" + accepted + ", " + next
                            + ") for a lane of " + drafted[lane] + " drafts");
                }
                out[lane] = new AcceptanceDecision(accepted, next);
            }
            return out;
        }

        private void requireOpen() {
            if (closed) {
                throw new IllegalStateException("this rejection-sampled round is closed");
            }
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                roundOpen = false;
            }
        }
    }

    private void upload(int[] gamma, int[] draftOffset, int[] verifyOffset, int[] draftTokenOf, int[] draftSlotOf,
                        int[] verifySlotOf, double[] uniformOf) {
        int n = draftOffset.length;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment structs = qspec_rejection.allocateArray(n, arena);
            for (int lane = 0; lane < n; lane++) {
                MemorySegment s = qspec_rejection.asSlice(structs, lane);
                qspec_rejection.gamma(s, gamma[lane]);
                qspec_rejection.draft_offset(s, draftOffset[lane]);
                qspec_rejection.verify_offset(s, verifyOffset[lane]);
                qspec_rejection.reserved(s, 0);
            }
            memory.copyToDevice(structs, lanes, 0);
            memory.copyToDevice(arena.allocateFrom(ValueLayout.JAVA_INT, draftTokenOf), draftTokens, 0);
            memory.copyToDevice(arena.allocateFrom(ValueLayout.JAVA_INT, draftSlotOf), draftSlots, 0);
            memory.copyToDevice(arena.allocateFrom(ValueLayout.JAVA_INT, verifySlotOf), verifySlots, 0);
            memory.copyToDevice(arena.allocateFrom(ValueLayout.JAVA_DOUBLE, uniformOf), uniforms, 0);
        }
    }

    /** Room for a round of {@code laneCount} lanes of up to {@code maxGamma} drafts. */
    private void ensure(int laneCount, int maxGamma) {
        int slots = Math.multiplyExact(laneCount, Math.addExact(Math.multiplyExact(2, maxGamma), 1));
        if (slots > slotCapacity) {
            free(kept, totals);
            kept = null;
            totals = null;
            slotCapacity = 0;
            kept = memory.allocate((long) slots * vocab * 4, "kept sampling distributions");
            totals = memory.allocate((long) slots * 8, "kept distribution totals");
            slotCapacity = slots;
        }
        int entries = laneCount * (maxGamma + 1);
        if (laneCount > laneCapacity || entries > entryCapacity) {
            free(lanes, draftTokens, draftSlots, verifySlots, uniforms, decisions);
            lanes = draftTokens = draftSlots = verifySlots = uniforms = decisions = null;
            laneCapacity = 0;
            entryCapacity = 0;
            lanes = memory.allocate(laneCount * qspec_rejection.sizeof(), "rejection lanes");
            draftTokens = memory.allocate((long) entries * 4, "draft tokens");
            draftSlots = memory.allocate((long) entries * 4, "draft slots");
            verifySlots = memory.allocate((long) entries * 4, "verify slots");
            uniforms = memory.allocate((long) entries * 8, "acceptance variates");
            decisions = memory.allocate((long) laneCount * 8, "round decisions");
            laneCapacity = laneCount;
            entryCapacity = entries;
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
