package io.qspec;

import static org.assertj.core.api.Assertions.assertThat;

import io.qspec.model.Model;
import org.junit.jupiter.api.Test;

/** The unquantized model reproduces llama2.c's reference output for stories260K. */
class ReferenceContinuationTest {

    @Test
    void fp32GreedyOnStories260KTellsAboutLily() {
        try (Model model = Model.load(TestModels.stories260K());
             QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            GenerationResult r = engine.generate(GenerationRequest.builder("Once upon a time").maxTokens(40)
                    .mode(DecodingMode.plain(Precision.FP32)).build());
            assertThat(r.text()).contains("there was a little girl named Lily");
            assertThat(r.promptTokens()).isGreaterThan(1);
        }
    }

    @Test
    void promptLongerThanTheContextIsAClearError() {
        try (Model model = Model.load(TestModels.stories260K());
             QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            int[] tooLong = new int[model.config().contextLength() + 1];
            java.util.Arrays.fill(tooLong, 5);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> engine.generate(GenerationRequest.builder(tooLong).build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("context");
        }
    }
}
