package io.qspec.examples.cli;

import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.QSpecEngine;
import io.qspec.StreamHandler;
import io.qspec.chat.ChatMessage;
import io.qspec.chat.ChatTemplate;
import io.qspec.model.Model;
import io.qspec.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qspec chat}: a conversation rendered through the model's own chat template, answers
 * streamed as they are accepted. On a terminal it prompts; otherwise it reads one user message per
 * line, answers each, and exits 0 at the end of input.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, description = "Chat with a model (streams answers).")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    DecodingOptions decoding;

    @Option(names = "--max-tokens", defaultValue = "256", description = "Most tokens per answer (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--system", description = "A system message to start the conversation with.")
    String system;

    @Option(names = "--stats", description = "After each answer, print tokens/s and acceptance on stderr.")
    boolean stats;

    @Override
    public Integer call() throws Exception {
        CliSupport.configureLogging(common.verbose);
        boolean interactive = System.console() != null;
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        // every flag is checked before the model loads, not when the first message arrives
        decoding.apply(GenerationRequest.builder("").maxTokens(maxTokens)).stopStrings(stopStrings(null)).build();
        try (Model model = common.load(decoding.needsDenseWeights());
             QSpecEngine engine = QSpecEngine.builder(model).backend(common.backend)
                     .speculationGate(decoding.speculationGate()).build()) {
            ChatTemplate template = ChatTemplate.fromModelMetadata(model.chatTemplate().orElse(null));
            Tokenizer tokenizer = model.tokenizer();
            String bos = tokenizer.bosId().isPresent() ? tokenizer.tokenText(tokenizer.bosId().getAsInt()) : "";
            String eos = tokenizer.eosId().isPresent() ? tokenizer.tokenText(tokenizer.eosId().getAsInt()) : "";
            List<ChatMessage> conversation = new ArrayList<>();
            if (system != null) {
                conversation.add(ChatMessage.system(system));
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                if (interactive) {
                    out.print("> ");
                    out.flush();
                }
                String line = in.readLine();
                if (line == null) {
                    return 0;
                }
                if (line.isBlank()) {
                    continue;
                }
                conversation.add(ChatMessage.user(line.strip()));
                String prompt = template.render(conversation, true, bos, eos);
                GenerationRequest request = decoding.apply(
                        GenerationRequest.builder(prompt).addBos(!template.emitsBosToken()).maxTokens(maxTokens))
                        .stopStrings(stopStrings(template)).build();
                GenerationResult r = engine.submit(request, new StreamHandler() {
                    @Override
                    public void onText(String text) {
                        out.print(text);
                        out.flush();
                    }
                }).join();
                out.println();
                conversation.add(ChatMessage.assistant(r.text().strip()));
                if (stats) {
                    System.err.printf(Locale.ROOT, "[%d tokens, %.1f tokens/s, acceptance %.2f, %s]%n", r.generatedTokens(),
                            r.tokensPerSecond(), r.speculation().acceptanceRate(), r.finishReason().jsonName());
                }
            }
        }
    }

    /**
     * The user's stop strings, plus, for the plain-transcript fallback, the start of the next turn
     * ({@code template} null: the user's alone).
     */
    private String[] stopStrings(ChatTemplate template) {
        List<String> stops = new ArrayList<>(decoding.stops);
        if (template != null && template.source().equals(ChatTemplate.PLAIN_TRANSCRIPT)) {
            stops.add("\nuser:");
        }
        return stops.toArray(String[]::new);
    }
}
