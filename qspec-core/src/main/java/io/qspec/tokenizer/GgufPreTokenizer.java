package io.qspec.tokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The byte-level pre-tokenizers llama.cpp selects by a GGUF file's {@code tokenizer.ggml.pre}: the
 * split regexes (applied one after another, each keeping matches and the text between them), and
 * whether the family uses {@code ignore_merges} and BOS by default. Names as in llama.cpp's
 * {@code llama_vocab::load}; "gpt2" is accepted besides llama.cpp's "gpt-2".
 */
enum GgufPreTokenizer {
    LLAMA3(List.of(PreTokenizerRegex.LLAMA3), true, true,
            "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"),
    /** Llama 3's regex without ignore_merges (llama.cpp's DBRX and SMAUG types). */
    LLAMA3_WITH_MERGES(List.of(PreTokenizerRegex.LLAMA3), false, false, "dbrx", "smaug-bpe"),
    QWEN2(List.of(PreTokenizerRegex.QWEN2), false, false, "qwen2", "deepseek-r1-qwen", "kormo", "megrez"),
    GPT2(List.of(PreTokenizerRegex.GPT2), false, false, "gpt-2", "gpt2", "phi-2"),
    DEFAULT(PreTokenizerRegex.LLAMA_CPP_DEFAULT, false, false, "default");

    final List<String> regexes;
    final boolean ignoreMerges;
    final boolean addBosByDefault;
    final List<String> names;

    GgufPreTokenizer(List<String> regexes, boolean ignoreMerges, boolean addBosByDefault, String... names) {
        this.regexes = regexes;
        this.ignoreMerges = ignoreMerges;
        this.addBosByDefault = addBosByDefault;
        this.names = List.of(names);
    }

    static Optional<GgufPreTokenizer> byName(String name) {
        return Arrays.stream(values()).filter(p -> p.names.contains(name)).findFirst();
    }

    /** Every accepted name, for error messages. */
    static List<String> allNames() {
        return Arrays.stream(values()).flatMap(p -> p.names.stream()).toList();
    }
}
