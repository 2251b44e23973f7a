package io.qspec.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.FinishReason;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.StreamHandler;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import io.qspec.model.RopeStyle;
import io.qspec.quant.QuantScheme;
import io.qspec.synthetic.ByteTokenizer;
import io.qspec.synthetic.SyntheticModels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Streaming over a byte-level tokenizer, where every multi-byte character is split across tokens:
 * the handler must only ever see whole characters, in order, adding up to the final text.
 */
class StreamingTest {
    private static Model model;
    private static final String TEXT = "Hi 😀! 世界 café — 🎉🎉 done";
    private static final int[] PROMPT = {ByteTokenizer.BOS, 'a'};

    @BeforeAll
    static void build() {
        ModelConfig tiny = new ModelConfig("llama", 32, 64, 1, 2, 2, 16, 300, 512, 1e-5f, 10000f,
                RopeStyle.HALF_SPLIT, Optional.empty(), false);
        model = SyntheticModels.build(tiny, "tiny-bytes", QuantScheme.DEFAULT, 3);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Stream<DecodingMode> modes() {
        return Stream.of(DecodingMode.plain(Precision.W4A16), DecodingMode.qspec(DraftMode.a8()),
                DecodingMode.qspec(DraftMode.a4().withGamma(5)));
    }

    private static int[] script(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length + 1];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xFF;
        }
        ids[bytes.length] = ByteTokenizer.EOS;
        return ids;
    }

    @ParameterizedTest
    @MethodSource("modes")
    void onlyWholeCharactersAreStreamed(DecodingMode mode) {
        try (QSpecEngine engine = QSpecEngine.builder(model).backend(new ScriptedBackend(script(TEXT), PROMPT.length)).build()) {
            List<String> pieces = new ArrayList<>();
            GenerationResult r = engine.submit(GenerationRequest.builder(PROMPT).maxTokens(200).mode(mode).build(),
                    new StreamHandler() {
                        @Override
                        public void onText(String text) {
                            pieces.add(text);
                        }
                    }).join();
            assertThat(r.text()).isEqualTo(TEXT);
            assertThat(r.finishReason()).isEqualTo(FinishReason.EOS);
            assertThat(String.join("", pieces)).isEqualTo(TEXT);
            for (String piece : pieces) {
                assertThat(piece).isNotEmpty();
                assertThat(Character.isHighSurrogate(piece.charAt(piece.length() - 1))).as("piece %s ends mid-emoji", piece).isFalse();
                assertThat(piece).doesNotContain("\uFFFD");
            }
            // the emoji, 4 bytes = 4 tokens, arrives as one piece in plain decoding
            if (mode instanceof DecodingMode.Plain) {
                assertThat(pieces).contains("😀", "世", "界");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("modes")
    void stopStringEndsTheTextBeforeItAndIsNeverStreamed(DecodingMode mode) {
        try (QSpecEngine engine = QSpecEngine.builder(model).backend(new ScriptedBackend(script(TEXT), PROMPT.length)).build()) {
            StringBuilder streamed = new StringBuilder();
            GenerationResult r = engine.submit(GenerationRequest.builder(PROMPT).maxTokens(200).mode(mode)
                    .stopStrings("世界 c", "zzz").build(), new StreamHandler() {
                        @Override
                        public void onText(String text) {
                            streamed.append(text);
                        }
                    }).join();
            assertThat(r.finishReason()).isEqualTo(FinishReason.STOP_STRING);
            assertThat(r.text()).isEqualTo("Hi 😀! ");
            assertThat(streamed.toString()).isEqualTo("Hi 😀! ");
        }
    }
}
