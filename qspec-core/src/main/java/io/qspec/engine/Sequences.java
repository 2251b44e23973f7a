package io.qspec.engine;

import io.qspec.DecodingMode;
import io.qspec.GenerationHandle;
import io.qspec.GenerationRequest;
import io.qspec.InvalidRequestException;
import io.qspec.Precision;
import io.qspec.StreamHandler;
import io.qspec.backend.ModelRunner;
import io.qspec.model.Model;
import java.util.List;

/** Validates a request, turns it into a {@link Sequence} and hands it to the scheduler. */
public final class Sequences {
    private Sequences() {
    }

    public static GenerationHandle submit(Scheduler scheduler, ModelRunner runner, GenerationRequest request,
                                          StreamHandler handler) {
        Model model = runner.model();
        for (Precision precision : precisions(request.mode())) {
            runner.unsupported(precision).ifPresent(why -> {
                throw new InvalidRequestException("this engine's " + runner.backendName() + " backend cannot decode in "
                        + precision + ": " + why);
            });
        }
        int[] prompt = promptTokens(model, request);
        int context = model.config().contextLength();
        if (prompt.length >= context) {
            throw new InvalidRequestException("prompt has " + prompt.length + " tokens but the model's context holds "
                    + context + " (including at least one generated token); shorten the prompt");
        }
        Sequence sequence = new Sequence(request, prompt, handler, model.tokenizer(), context);
        scheduler.submit(sequence);
        return new GenerationHandle(sequence.future, () -> {
            sequence.cancel();
            scheduler.wake();
        });
    }

    private static List<Precision> precisions(DecodingMode mode) {
        return switch (mode) {
            case DecodingMode.Plain plain -> List.of(plain.precision());
            case DecodingMode.Speculative s -> List.of(s.draft().precision(), s.verify().precision());
        };
    }

    private static int[] promptTokens(Model model, GenerationRequest request) {
        int[] ids = request.promptTokens().orElseGet(() -> {
            try {
                return model.tokenizer().encode(request.prompt().orElseThrow(), request.addBos());
            } catch (IllegalArgumentException e) {  // a character the vocabulary cannot spell
                throw new InvalidRequestException("the prompt cannot be encoded with " + model.name()
                        + "'s tokenizer: " + e.getMessage());
            }
        });
        if (ids.length == 0) {
            throw new InvalidRequestException("the prompt is empty (no tokens, and no BOS token to start from)");
        }
        int vocab = model.config().vocabSize();
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new InvalidRequestException("prompt token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        for (int id : request.stopTokenIds()) {  // one outside could never stop anything: a caller's mistake
            if (id < 0 || id >= vocab) {
                throw new InvalidRequestException("stop token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        return ids;
    }
}
