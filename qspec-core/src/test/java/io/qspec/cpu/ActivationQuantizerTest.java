package io.qspec.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.Precision;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class ActivationQuantizerTest {

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"W4A8", "W4A4"})
    void codesStayInRangeAndRoundTripWithinHalfAScale(Precision p) {
        int cols = 200;
        int group = 64;
        float[] x = KernelTestData.gaussian(11, cols);
        int[] q = new int[cols];
        float[] scales = new float[4];
        ActivationQuantizer.quantizeRow(x, 0, cols, group, p, q, 0, scales, 0);
        int max = ActivationQuantizer.maxLevel(p);
        for (int k = 0; k < cols; k++) {
            float scale = scales[k / group];
            assertThat(scale).isPositive();
            assertThat(q[k]).isBetween(p == Precision.W4A4 ? -8 : -127, max);
            assertThat(Math.abs(x[k] - (double) scale * q[k])).isLessThanOrEqualTo(scale * 0.5 * (1 + 1e-6));
        }
        for (int g = 0; g < 4; g++) {
            float absMax = ActivationQuantizer.absMax(x, g * group, Math.min(cols, (g + 1) * group));
            assertThat(scales[g]).isEqualTo(absMax / max);
        }
    }

    @Test
    void zeroGroupGivesZeroScaleAndCodes() {
        float[] x = new float[32];
        int[] q = new int[32];
        float[] scales = {1f};
        ActivationQuantizer.quantizeRow(x, 0, 32, 32, Precision.W4A8, q, 0, scales, 0);
        assertThat(scales[0]).isZero();
        assertThat(q).containsOnly(0);
    }

    @Test
    void rejectsUnquantizedPrecisions() {
        assertThatThrownBy(() -> ActivationQuantizer.maxLevel(Precision.W4A16)).isInstanceOf(IllegalArgumentException.class);
    }
}
