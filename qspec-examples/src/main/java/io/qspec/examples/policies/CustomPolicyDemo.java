package io.qspec.examples.policies;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.QSpecEngine;
import io.qspec.VerifyMode;
import io.qspec.model.Model;
import java.nio.file.Path;

/**
 * Runs one prompt with strict greedy acceptance and with the lossy {@link LogitMarginAcceptance},
 * and prints both texts with their acceptance rates. Usage: {@code CustomPolicyDemo MODEL [PROMPT] [MARGIN]}.
 */
public final class CustomPolicyDemo {
    private CustomPolicyDemo() {
    }

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: CustomPolicyDemo MODEL [PROMPT] [MARGIN]");
            System.exit(2);
        }
        String prompt = args.length > 1 ? args[1] : "Once upon a time";
        float margin = args.length > 2 ? Float.parseFloat(args[2]) : 1.0f;
        try (Model model = Model.load(Path.of(args[0]));
             QSpecEngine engine = QSpecEngine.builder(model).build()) {
            for (DecodingMode mode : new DecodingMode[] {
                    DecodingMode.qspec(DraftMode.a4()),
                    new DecodingMode.Speculative(DraftMode.a4(), VerifyMode.w4a16(), new LogitMarginAcceptance(margin))}) {
                GenerationResult r = engine.generate(GenerationRequest.builder(prompt).maxTokens(64).mode(mode).build());
                String policy = ((DecodingMode.Speculative) mode).acceptance().name();
                System.out.printf("%s (acceptance %.2f):%n%s%s%n%n", policy, r.speculation().acceptanceRate(), prompt, r.text());
            }
        }
    }
}
