package io.qspec.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelRowsTest {

    @Test
    void everyRowRunsExactlyOnceWhateverTheThreadCount() {
        for (int threads = 1; threads <= 5; threads++) {
            ParallelRows parallel = new ParallelRows(threads, 1);
            for (int n : new int[] {1, 2, 3, 7, 100}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                parallel.forEach(n, 1, (start, end) -> {
                    for (int i = start; i < end; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertThat(hits.get(i)).as("row %d of %d with %d threads", i, n, threads).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void smallWorkRunsInlineAsOneChunk() {
        ParallelRows parallel = new ParallelRows(4);
        int[] chunks = new int[1];
        parallel.forEach(10, 1, (start, end) -> {
            chunks[0]++;
            assertThat(start).isZero();
            assertThat(end).isEqualTo(10);
        });
        assertThat(chunks[0]).isEqualTo(1);
    }

    @Test
    void chunkFailuresReachTheCaller() {
        ParallelRows parallel = new ParallelRows(2, 1);
        assertThatThrownBy(() -> parallel.forEach(10, 1, (start, end) -> {
            if (start > 0) {
                throw new IllegalStateException("boom");
            }
        })).hasMessageContaining("boom");
    }

    @Test
    void rejectsNonPositiveThreads() {
        assertThatThrownBy(() -> new ParallelRows(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
