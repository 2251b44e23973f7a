package io.qspec;

import static org.assertj.core.api.Assertions.assertThat;

import io.qspec.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

class GenerationRequestTest {
    private static final SamplingParams WARM = SamplingParams.builder().temperature(0.8).seed(7).build();

    @Test
    void aSeedSetBeforeTheSamplingParametersIsKept() {
        GenerationRequest request = GenerationRequest.builder("hi").seed(42).sampling(WARM).build();
        assertThat(request.sampling().seed()).isEqualTo(42);
        assertThat(request.sampling().temperature()).isEqualTo(0.8);
    }

    @Test
    void aSeedSetAfterTheSamplingParametersIsKept() {
        GenerationRequest request = GenerationRequest.builder("hi").sampling(WARM).seed(42).build();
        assertThat(request.sampling().seed()).isEqualTo(42);
        assertThat(request.sampling().temperature()).isEqualTo(0.8);
    }

    @Test
    void withoutAnExplicitSeedTheSamplingParametersSeedHolds() {
        assertThat(GenerationRequest.builder("hi").sampling(WARM).build().sampling().seed()).isEqualTo(7);
    }
}
