package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.kv.KvCacheExhaustedException;
import java.util.AbstractList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchPlanTest {

    @Test
    void laysOutTokensPositionsAndLogitRows() {
        BatchPlan plan = BatchPlan.of(List.of(
                new BatchPlan.SequenceShape(5, 64, new int[] {7, 8, 9}, true),
                new BatchPlan.SequenceShape(0, 64, new int[] {1, 2}, false)), 10);

        assertThat(plan.tokenCount()).isEqualTo(5);
        assertThat(plan.tokens()).containsExactly(7, 8, 9, 1, 2);
        assertThat(plan.tokenSeq()).containsExactly(0, 0, 0, 1, 1);
        assertThat(plan.tokenPos()).containsExactly(5, 6, 7, 0, 1);
        assertThat(plan.logitSourceRows()).containsExactly(0, 1, 2, 4);
        assertThat(plan.firstLogitRow()).containsExactly(0, 3);
        assertThat(plan.end(0)).isEqualTo(8);
        assertThat(plan.end(1)).isEqualTo(2);
    }

    @Test
    void theContextsSpanTheShortestTokenToTheLongestSequence() {
        BatchPlan plan = BatchPlan.of(List.of(
                new BatchPlan.SequenceShape(5, 64, new int[] {7, 8, 9}, true),
                new BatchPlan.SequenceShape(40, 64, new int[] {1}, false),
                new BatchPlan.SequenceShape(0, 64, new int[] {1, 2}, false)), 10);

        assertThat(plan.shortestContext()).isEqualTo(1);   // the prompt's first token attends to itself
        assertThat(plan.longestContext()).isEqualTo(41);
        BatchPlan decode = BatchPlan.of(List.of(new BatchPlan.SequenceShape(1500, 2048, new int[] {3}, false),
                new BatchPlan.SequenceShape(1023, 2048, new int[] {3}, false)), 10);
        assertThat(decode.shortestContext()).isEqualTo(1024);
        assertThat(decode.longestContext()).isEqualTo(1501);
    }

    @Test
    void theAttentionRunNamesUniformPassesShortMixesAndPrefillMixes() {
        assertThat(plan(3, 3).attentionRun()).isEqualTo(3);
        assertThat(plan(1, 1, 1).attentionRun()).isEqualTo(1);
        assertThat(plan(100, 100).attentionRun()).isEqualTo(100);
        assertThat(plan(4, 1, 63).attentionRun()).isEqualTo(1);
        assertThat(plan(4, 64).attentionRun()).isZero();
        assertThat(plan(200, 100).attentionRun()).isZero();
    }

    /** A pass of sequences with these token counts, each from position 0. */
    private static BatchPlan plan(int... counts) {
        List<BatchPlan.SequenceShape> shapes = new java.util.ArrayList<>();
        for (int c : counts) {
            shapes.add(new BatchPlan.SequenceShape(0, 256, new int[c], false));
        }
        return BatchPlan.of(shapes, 10);
    }

    @Test
    void blockTablesAreOneRowPerSequenceAsWideAsTheLongest() {
        BatchPlan plan = BatchPlan.of(List.of(
                new BatchPlan.SequenceShape(30, 64, new int[] {1, 2, 3}, false),
                new BatchPlan.SequenceShape(0, 64, new int[] {4}, false)), 10);

        assertThat(plan.maxBlocks(16)).isEqualTo(3);
        int[] table = plan.blockTables(new int[][] {{5, 9, 2}, {4}}, 16, 10);
        assertThat(table).containsExactly(5, 9, 2, 4, 0, 0);
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreRejected() {
        assertThatThrownBy(() -> BatchPlan.of(List.of(new BatchPlan.SequenceShape(0, 8, new int[] {3, 10}, false)), 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id 10");
        assertThatThrownBy(() -> BatchPlan.of(List.of(new BatchPlan.SequenceShape(0, 8, new int[] {-1}, false)), 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id -1");
    }

    @Test
    void aSequenceMayNotOutgrowItsCache() {
        assertThatThrownBy(() -> BatchPlan.of(List.of(new BatchPlan.SequenceShape(6, 8, new int[] {1, 2, 3}, false)), 10))
                .isInstanceOf(KvCacheExhaustedException.class).hasMessageContaining("needs 9 positions");
    }

    @Test
    void blockIdsMustCoverTheSequenceAndLieInThePool() {
        BatchPlan plan = BatchPlan.of(List.of(new BatchPlan.SequenceShape(16, 64, new int[] {1}, false)), 10);
        assertThatThrownBy(() -> plan.blockTables(new int[][] {{0}}, 16, 4)).hasMessageContaining("needs 2");
        assertThatThrownBy(() -> plan.blockTables(new int[][] {{0, 4}}, 16, 4)).hasMessageContaining("block id 4");
    }

    @Test
    void emptyBatchesAreRejected() {
        assertThatThrownBy(() -> BatchPlan.of(List.of(), 10)).isInstanceOf(IllegalArgumentException.class);
    }

    /** The ids are checked, then uploaded: a caller that rewrites its array or its list in between changes neither. */
    @Test
    void thePlanHoldsTheIdsItChecked() {
        int[] ids = {1, 2, 3};
        BatchPlan.SequenceShape shape = new BatchPlan.SequenceShape(0, 16, ids, false);
        ids[1] = 1_000_000;
        assertThat(BatchPlan.of(List.of(shape), 300).tokens()).containsExactly(1, 2, 3);

        BatchPlan.SequenceShape checked = new BatchPlan.SequenceShape(0, 16, new int[] {1, 2, 3}, false);
        BatchPlan.SequenceShape swapped = new BatchPlan.SequenceShape(0, 16, new int[] {1, 1_000_000, 3}, false);
        List<BatchPlan.SequenceShape> changing = new AbstractList<>() {
            private int reads;

            @Override
            public BatchPlan.SequenceShape get(int index) {
                return reads++ == 0 ? checked : swapped;  // a different answer after the first read
            }

            @Override
            public int size() {
                return 1;
            }
        };
        assertThat(BatchPlan.of(changing, 300).tokens()).containsExactly(1, 2, 3);
    }
}
