package io.qspec.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The SentencePiece BPE segmentation used by llama.cpp and llama2.c: start from single code points
 * and repeatedly merge the adjacent pair whose concatenation is a vocabulary piece with the highest
 * score (the leftmost pair on ties), until no adjacent pair forms a piece.
 *
 * <p>Symbols live in a doubly linked list over the text and candidate pairs in a priority queue;
 * a pair whose symbols changed since it was queued is recognised as stale and skipped. That makes
 * a text of n code points O(n log n) rather than llama2.c's O(n²) rescans, with the same result.
 */
final class SentencePieceMerges {

    private SentencePieceMerges() {
    }

    /** A candidate merge of symbol {@code left} with the symbol right after it, {@code length} chars in all. */
    private record Candidate(int left, int right, float score, int length) {
    }

    /**
     * Splits {@code text} into the segments left after all merges, in order. Segments are either
     * pieces of {@code pieceIds} or single code points that the vocabulary may or may not hold.
     *
     * @param pieceIds piece text to id, for the pieces merges may produce
     * @param scores   merge priority of each id (higher merges first)
     */
    static List<String> segment(String text, Map<String, Integer> pieceIds, float[] scores) {
        int symbolCount = text.codePointCount(0, text.length());
        int[] start = new int[symbolCount];
        int[] length = new int[symbolCount];   // in chars; 0 once merged into the symbol on its left
        int[] prev = new int[symbolCount];
        int[] next = new int[symbolCount];
        for (int i = 0, at = 0; i < symbolCount; i++) {
            start[i] = at;
            length[i] = Character.charCount(text.codePointAt(at));
            at += length[i];
            prev[i] = i - 1;
            next[i] = i + 1 < symbolCount ? i + 1 : -1;
        }

        PriorityQueue<Candidate> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score)
                : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < symbolCount; i++) {
            offer(queue, text, i, i + 1, start, length, pieceIds, scores);
        }
        while (!queue.isEmpty()) {
            Candidate c = queue.poll();
            // stale: one side was merged away or grew since this pair was queued
            if (length[c.left] == 0 || length[c.right] == 0 || length[c.left] + length[c.right] != c.length) {
                continue;
            }
            length[c.left] += length[c.right];
            length[c.right] = 0;
            next[c.left] = next[c.right];
            if (next[c.left] >= 0) {
                prev[next[c.left]] = c.left;
            }
            offer(queue, text, prev[c.left], c.left, start, length, pieceIds, scores);
            offer(queue, text, c.left, next[c.left], start, length, pieceIds, scores);
        }

        List<String> segments = new ArrayList<>();
        for (int i = symbolCount > 0 ? 0 : -1; i >= 0; i = next[i]) {
            segments.add(text.substring(start[i], start[i] + length[i]));
        }
        return segments;
    }

    private static void offer(PriorityQueue<Candidate> queue, String text, int left, int right, int[] start,
                              int[] length, Map<String, Integer> pieceIds, float[] scores) {
        if (left < 0 || right < 0) {
            return;
        }
        int mergedLength = length[left] + length[right];
        Integer id = pieceIds.get(text.substring(start[left], start[left] + mergedLength));
        if (id != null) {
            queue.add(new Candidate(left, right, scores[id], mergedLength));
        }
    }
}
