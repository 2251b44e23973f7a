package io.qspec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

    private static ModelConfig config(int heads, int kvHeads, int headDim, int hiddenDim) {
        return new ModelConfig("llama", 64, hiddenDim, 1, heads, kvHeads, headDim, 300, 256, 1e-5f, 10000f,
                RopeStyle.HALF_SPLIT, Optional.empty(), false);
    }

    @Test
    void widthsFollowHeadsAndHeadSize() {
        ModelConfig c = config(8, 2, 64, 256);
        assertThat(c.qDim()).isEqualTo(512);
        assertThat(c.kvDim()).isEqualTo(128);
    }

    /** A file may claim any header values: widths that do not fit an int are refused, never wrapped around. */
    @Test
    void widthsBeyondAnIntAreRefused() {
        assertThatThrownBy(() -> config(1 << 16, 1 << 16, 1 << 16, 256))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too large");
        assertThatThrownBy(() -> config(2, 2, 1 << 30, 256))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too large");
        assertThatThrownBy(() -> config(8, 2, 64, Integer.MAX_VALUE / 2 + 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too large");
    }
}
