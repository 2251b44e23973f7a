package io.qspec.examples.prompts;

import com.google.gson.JsonParser;
import io.qspec.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Prompt sets for bench and eval: a built-in set for the story models, or a file (one per line, or JSONL). */
public final class PromptSets {
    /** Story openings suited to the TinyStories-trained test models. */
    public static final List<String> BUILT_IN = List.of(
            "Once upon a time", "The little dog", "Lily wanted to", "One day, a boy named Tim",
            "The sun was shining and", "Mom said", "There was a big red ball", "The cat and the bird",
            "Sam liked to play", "In the park, there", "The girl was sad because", "A tiny fish",
            "Ben and his friend", "It was a rainy day", "The old man had", "She looked at the sky and",
            "They went to the store", "The bear was hungry", "Once there was a car that", "He found a shiny",
            "The flowers in the garden", "Tom had a toy", "The bird sang", "Anna and her mom",
            "At night, the stars", "The big tree", "A little boy saw", "The dog wanted to play with",
            "Sue had a doll", "The king was", "One morning, the sun", "The frog jumped");

    private PromptSets() {
    }

    /**
     * Reads prompts from {@code file}: JSONL lines with a {@code "prompt"} (or {@code "text"}) field,
     * or plain lines; blank lines are skipped.
     */
    public static List<String> read(Path file) {
        try {
            List<String> prompts = new ArrayList<>();
            int lineNo = 0;
            for (String line : Files.readAllLines(file)) {
                lineNo++;
                String trimmed = line.strip();
                if (trimmed.isEmpty()) {
                    continue;
                }
                if (trimmed.startsWith("{")) {
                    var obj = JsonParser.parseString(trimmed).getAsJsonObject();
                    var field = obj.has("prompt") ? obj.get("prompt") : obj.get("text");
                    if (field == null) {
                        throw new IllegalArgumentException(file + ":" + lineNo + ": JSON line has no \"prompt\" or \"text\" field");
                    }
                    prompts.add(field.getAsString());
                } else {
                    prompts.add(trimmed);
                }
            }
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException(file + " holds no prompts");
            }
            return prompts;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read prompts from " + file, e);
        }
    }

    public static List<int[]> encode(List<String> prompts, Tokenizer tokenizer) {
        return prompts.stream().map(p -> tokenizer.encode(p, true)).toList();
    }
}
