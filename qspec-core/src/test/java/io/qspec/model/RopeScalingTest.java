package io.qspec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Llama-3 RoPE scaling, from its parameters (Hugging Face) or as per-pair divisors (GGUF rope_freqs). */
class RopeScalingTest {
    private static ModelConfig config(Optional<RopeScaling> scaling) {
        return new ModelConfig("llama", 4096, 14336, 1, 32, 8, 128, 1000, 8192, 1e-5f, 500000f, RopeStyle.HALF_SPLIT,
                scaling, false);
    }

    @Test
    void llama3KeepsHighFrequenciesAndDividesLowOnes() {
        double[] base = config(Optional.empty()).ropeInverseFrequencies();
        double[] scaled = config(Optional.of(RopeScaling.llama3(8f, 1f, 4f, 8192))).ropeInverseFrequencies();
        assertThat(scaled[0]).isEqualTo(base[0]); // wavelength 2π < 8192/4: unchanged
        assertThat(scaled[63]).isCloseTo(base[63] / 8, within(1e-18)); // wavelength > 8192: divided by the factor
        for (int i = 0; i < 64; i++) {
            assertThat(scaled[i]).isBetween(base[i] / 8 - 1e-18, base[i]);
        }
    }

    @Test
    void ggufFrequencyDivisorsReproduceTheLlama3Parameters() {
        // llama.cpp writes rope_freqs[i] = base[i] / llama3(base[i]); dividing by them must give the same frequencies
        RopeScaling llama3 = RopeScaling.llama3(8f, 1f, 4f, 8192);
        double[] base = config(Optional.empty()).ropeInverseFrequencies();
        float[] divisors = new float[64];
        for (int i = 0; i < 64; i++) {
            divisors[i] = (float) (base[i] / llama3.scale(i, base[i]));
        }
        double[] fromParameters = config(Optional.of(llama3)).ropeInverseFrequencies();
        double[] fromDivisors = config(Optional.of(new RopeScaling.FrequencyFactors(divisors))).ropeInverseFrequencies();
        for (int i = 0; i < 64; i++) {
            assertThat(fromDivisors[i]).isCloseTo(fromParameters[i], within(fromParameters[i] * 1e-6));
        }
    }

    @Test
    void divisorsMustMatchTheHeadSize() {
        assertThatThrownBy(() -> config(Optional.of(new RopeScaling.FrequencyFactors(new float[10]))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config(Optional.of(new RopeScaling.FrequencyFactors(new float[64]))))
                .hasMessageContaining("positive");
    }
}
