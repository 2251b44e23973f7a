package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ContextBoundsTest {

    @Test
    void aPassOnOneSideOfTheThresholdSaysWhichAndAMixedOneNothing() {
        assertThat(ContextBounds.of(1024, 1024, 5000)).isEqualTo(new ContextBounds(1024, 0));
        assertThat(ContextBounds.of(1024, 1, 1023)).isEqualTo(new ContextBounds(0, 1023));
        assertThat(ContextBounds.of(1024, 1023, 1024)).isEqualTo(ContextBounds.UNKNOWN);
        assertThat(ContextBounds.of(1024, 1, 9000)).isEqualTo(ContextBounds.UNKNOWN);
    }

    @Test
    void theBoundsHoldEveryContextOfThePass() {
        for (int from : new int[] {1, 2, 300, 1024}) {
            for (int shortest = 1; shortest < 2100; shortest += 97) {
                for (int longest = shortest; longest < 2100; longest += 131) {
                    ContextBounds b = ContextBounds.of(from, shortest, longest);
                    assertThat(b.min()).as("from %d, [%d, %d]", from, shortest, longest).isLessThanOrEqualTo(shortest);
                    assertThat(b.max() == 0 || b.max() >= longest).as("from %d, [%d, %d]: max %d", from, shortest,
                            longest, b.max()).isTrue();
                }
            }
        }
    }

    @Test
    void manyStepsOfOnePassShapeShareTheirBounds() {
        // a graph is captured per value: decode steps on one side of the threshold must not each get their own
        assertThat(ContextBounds.of(1024, 1100, 1100)).isEqualTo(ContextBounds.of(1024, 4000, 4000));
        assertThat(ContextBounds.of(1024, 10, 10)).isEqualTo(ContextBounds.of(1024, 900, 1000));
    }

    @Test
    void withoutTilesOrWithTilesForEveryTokenNothingIsToDecide() {
        assertThat(ContextBounds.of(-1, 5000, 6000)).isEqualTo(ContextBounds.UNKNOWN);
        assertThat(ContextBounds.of(0, 1, 6000)).isEqualTo(ContextBounds.UNKNOWN);
    }

    @Test
    void impossibleBoundsAreRejected() {
        assertThatThrownBy(() -> new ContextBounds(10, 5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[10, 5]");
        assertThatThrownBy(() -> new ContextBounds(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ContextBounds.of(1024, 0, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ContextBounds.of(1024, 9, 5)).isInstanceOf(IllegalArgumentException.class);
    }
}
