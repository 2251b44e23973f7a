package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.qspec.model.ModelConfig;
import io.qspec.model.RopeScaling;
import io.qspec.model.RopeStyle;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RopeFrequenciesTest {

    private static ModelConfig config(Optional<RopeScaling> scaling) {
        return new ModelConfig("llama", 64, 128, 1, 2, 1, 32, 100, 8192, 1e-5f, 500000f, RopeStyle.HALF_SPLIT, scaling, false);
    }

    @Test
    void unscaledTableIsThetaToTheMinusTwoIOverD() {
        float[] table = RopeFrequencies.inverseFrequencies(config(Optional.empty()));
        assertThat(table).hasSize(16);
        assertThat(table[0]).isEqualTo(1f);
        assertThat((double) table[5]).isCloseTo(Math.pow(500000, -10.0 / 32), within(1e-9));
    }

    @Test
    void llama3ScalingIsApplied() {
        RopeScaling scaling = RopeScaling.llama3(8f, 1f, 4f, 8192);
        float[] table = RopeFrequencies.inverseFrequencies(config(Optional.of(scaling)));
        for (int i = 0; i < table.length; i++) {
            double inv = Math.pow(500000, -2.0 * i / 32);
            assertThat((double) table[i]).isCloseTo(scaling.scale(i, inv), within(1e-6 * inv + 1e-12));
        }
        // the lowest frequency is long-wavelength: divided by the factor
        assertThat((double) table[15]).isCloseTo(Math.pow(500000, -30.0 / 32) / 8, within(1e-12));
    }

    @Test
    void styleCodesFollowTheHeader() {
        assertThat(RopeFrequencies.styleCode(RopeStyle.INTERLEAVED)).isZero();
        assertThat(RopeFrequencies.styleCode(RopeStyle.HALF_SPLIT)).isEqualTo(1);
    }
}
