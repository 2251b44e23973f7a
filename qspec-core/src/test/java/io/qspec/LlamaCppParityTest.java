package io.qspec;

import static org.assertj.core.api.Assertions.assertThat;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import io.qspec.model.Model;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Our unquantized decoding against llama.cpp's (the {@code de.kherud:llama} test dependency: llama.cpp built for
 * linux-x86_64, through its Java binding) on the real stories260K GGUF: the same greedy continuation, character
 * for character, for the prompts of {@link QSpecLosslessTest}. Both read the file's F32 weights and SentencePiece
 * vocabulary and add BOS; the engines differ in everything else (tokenizer code, RoPE, attention, summation order).
 */
class LlamaCppParityTest {

    @Test
    void fp32GreedyContinuationsEqualLlamaCpps() {
        List<String> prompts = QSpecLosslessTest.PROMPTS.subList(0, 10);
        int tokens = 32;
        String[] theirs = new String[prompts.size()];
        try (LlamaModel llama = new LlamaModel(new ModelParameters().setModel(TestModels.stories260K().toString())
                .setThreads(2).setCtxSize(256).disableLog())) {
            for (int i = 0; i < prompts.size(); i++) {
                theirs[i] = llama.complete(new InferenceParameters(prompts.get(i)).setNPredict(tokens)
                        .setTemperature(0f).setTopK(1).setCachePrompt(false));
            }
        }
        try (Model model = Model.load(TestModels.stories260K());
             QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            for (int i = 0; i < prompts.size(); i++) {
                GenerationResult ours = engine.generate(GenerationRequest.builder(prompts.get(i)).maxTokens(tokens)
                        .mode(DecodingMode.plain(Precision.FP32)).build());
                assertThat(theirs[i]).as("llama.cpp's continuation of '%s'", prompts.get(i)).hasSizeGreaterThan(60);
                assertThat(ours.text()).as("continuation of '%s'", prompts.get(i)).isEqualTo(theirs[i]);
            }
        }
    }
}
