package io.qspec.sampling;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SamplingParamsTest {

    @Test
    void defaultsAreGreedyWithoutPenalties() {
        SamplingParams params = SamplingParams.builder().build();

        assertThat(params).isEqualTo(new SamplingParams(0, 0, 1, 0, 1, 0, 0, 0)).isEqualTo(SamplingParams.GREEDY);
        assertThat(params.isGreedy()).isTrue();
        assertThat(params.hasPenalties()).isFalse();
    }

    @Test
    void toBuilderRoundTrips() {
        SamplingParams params = SamplingParams.builder().temperature(0.7).topK(40).topP(0.9).minP(0.05)
                .repetitionPenalty(1.1).frequencyPenalty(0.5).presencePenalty(0.25).seed(42).build();

        assertThat(params.toBuilder().build()).isEqualTo(params);
        assertThat(params.isGreedy()).isFalse();
        assertThat(params.hasPenalties()).isTrue();
    }

    @Test
    void rejectsOutOfRangeValuesNamingTheParameter() {
        assertThatThrownBy(() -> SamplingParams.builder().temperature(-0.1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("temperature must be >= 0");
        assertThatThrownBy(() -> SamplingParams.builder().temperature(Double.NaN).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("temperature must be a finite number");
        assertThatThrownBy(() -> SamplingParams.builder().topK(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topK must be >= 0");
        assertThatThrownBy(() -> SamplingParams.builder().topP(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topP must be in (0, 1]");
        assertThatThrownBy(() -> SamplingParams.builder().topP(1.5).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topP must be in (0, 1]");
        assertThatThrownBy(() -> SamplingParams.builder().minP(-0.5).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minP must be in [0, 1]");
        assertThatThrownBy(() -> SamplingParams.builder().repetitionPenalty(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("repetitionPenalty must be > 0");
        assertThatThrownBy(() -> SamplingParams.builder().frequencyPenalty(Double.POSITIVE_INFINITY).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("frequencyPenalty must be a finite number");
    }

    @Test
    void sameSeedSameRandomStream() {
        SamplingParams params = SamplingParams.builder().seed(1234).build();

        assertThat(params.newRandom().nextLong()).isEqualTo(params.newRandom().nextLong());
        assertThat(params.newRandom().nextLong())
                .isNotEqualTo(params.toBuilder().seed(1235).build().newRandom().nextLong());
    }
}
