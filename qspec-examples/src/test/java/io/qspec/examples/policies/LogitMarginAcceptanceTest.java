package io.qspec.examples.policies;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.VerifyMode;
import io.qspec.model.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The example custom policy plugs into the engine: margin 0 is strict greedy; a margin accepts more. */
class LogitMarginAcceptanceTest {

    @Test
    void zeroMarginIsGreedyAndAMarginAcceptsMore() {
        Path model = Path.of(System.getProperty("qspec.models.dir", "../shared/models")).resolve("TinyStories-656K");
        assumeTrue(Files.isDirectory(model), () -> "test model not found at " + model.toAbsolutePath());
        try (Model m = Model.load(model); QSpecEngine engine = QSpecEngine.builder(m).backend("cpu").build()) {
            long greedyAccepted = 0;
            long lenientAccepted = 0;
            for (String prompt : new String[] {"Once upon a time", "The little dog", "Tom had a toy"}) {
                GenerationResult plain = engine.generate(GenerationRequest.builder(prompt).maxTokens(32)
                        .mode(DecodingMode.plain(Precision.W4A16)).build());
                GenerationResult zero = engine.generate(GenerationRequest.builder(prompt).maxTokens(32)
                        .mode(new DecodingMode.Speculative(DraftMode.a4(), VerifyMode.w4a16(), new LogitMarginAcceptance(0f))).build());
                GenerationResult lenient = engine.generate(GenerationRequest.builder(prompt).maxTokens(32)
                        .mode(new DecodingMode.Speculative(DraftMode.a4(), VerifyMode.w4a16(), new LogitMarginAcceptance(2f))).build());
                assertThat(zero.tokenIds()).containsExactly(plain.tokenIds());
                greedyAccepted += zero.speculation().accepted();
                lenientAccepted += lenient.speculation().accepted();
            }
            assertThat(lenientAccepted).isGreaterThan(greedyAccepted);
        }
    }
}
