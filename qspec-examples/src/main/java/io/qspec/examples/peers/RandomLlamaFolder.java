package io.qspec.examples.peers;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.SplittableRandom;

/**
 * Writes a random-weight Llama model as a Hugging Face folder ({@code config.json} for
 * {@code LlamaForCausalLM}, a BF16 {@code model.safetensors}, a tokenizer and a {@code README.md}), so that QSpec and a peer
 * engine can load the very same weights. Linear and embedding weights are N(0, 0.02²) like a freshly
 * initialised Llama; norm weights are 1. The tokenizer is copied from a small real model (by default
 * TinyStories-656K, a 2048-token byte-fallback BPE that both engines read); when the shape's vocabulary
 * is larger, the copied vocabulary is padded with {@code <|extra_N|>} entries (no merges produce them) so
 * that every id a random model can emit still decodes.
 */
public final class RandomLlamaFolder {

    /** Standard deviation of every random weight, Llama's {@code initializer_range}. */
    public static final double WEIGHT_STD = 0.02;

    private static final int BOS = 1;
    private static final int EOS = 2;

    private RandomLlamaFolder() {
    }

    /** The tokenizer folder used when none is given: {@code <qspec.models.dir or ../shared/models>/TinyStories-656K}. */
    public static Path defaultTokenizerSource() {
        return Path.of(System.getProperty("qspec.models.dir", "../shared/models"), "TinyStories-656K").toAbsolutePath().normalize();
    }

    /**
     * Writes the folder.
     *
     * @param folder          where to write (created if missing)
     * @param shape           model shape
     * @param tokenizerSource a Hugging Face folder whose {@code tokenizer.json} (and {@code tokenizer_config.json}, if any) is copied
     * @param seed            seed of the weights
     * @return {@code folder}
     */
    public static Path write(Path folder, PeerShape shape, Path tokenizerSource, long seed) {
        try {
            Files.createDirectories(folder);
            copyTokenizer(tokenizerSource, folder, shape.vocabSize());
            Files.writeString(folder.resolve("config.json"), new GsonBuilder().setPrettyPrinting().create().toJson(config(shape)));
            writeWeights(folder.resolve("model.safetensors"), shape, seed);
            // model cards are expected next to the weights (Jlama's quantizer copies this one)
            Files.writeString(folder.resolve("README.md"), "# Random-weight Llama (" + shape.name() + ")\n\nWritten by QSpec's "
                    + RandomLlamaFolder.class.getSimpleName() + " for engine comparisons: N(0, " + WEIGHT_STD
                    + "^2) weights, seed " + seed + ". It generates noise.\n");
            return folder;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the random model to " + folder, e);
        }
    }

    static JsonObject config(PeerShape s) {
        JsonObject c = new JsonObject();
        JsonArray arch = new JsonArray();
        arch.add("LlamaForCausalLM");
        c.add("architectures", arch);
        c.addProperty("model_type", "llama");
        c.addProperty("hidden_act", "silu");
        c.addProperty("hidden_size", s.dim());
        c.addProperty("intermediate_size", s.hiddenDim());
        c.addProperty("num_hidden_layers", s.layers());
        c.addProperty("num_attention_heads", s.heads());
        c.addProperty("num_key_value_heads", s.kvHeads());
        c.addProperty("head_dim", s.headDim());
        c.addProperty("vocab_size", s.vocabSize());
        c.addProperty("max_position_embeddings", 2048);
        c.addProperty("rms_norm_eps", 1e-5);
        c.addProperty("rope_theta", s.ropeTheta());
        c.addProperty("bos_token_id", BOS);
        c.addProperty("eos_token_id", EOS);
        c.addProperty("tie_word_embeddings", s.tiedEmbeddings());
        c.addProperty("torch_dtype", "bfloat16");
        c.addProperty("initializer_range", WEIGHT_STD);
        return c;
    }

    private static void copyTokenizer(Path source, Path folder, int vocabSize) throws IOException {
        Path json = source.resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            throw new IOException("no tokenizer.json in " + source + " (pass a Hugging Face folder with one)");
        }
        JsonObject tokenizer = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        JsonObject vocab = tokenizer.getAsJsonObject("model").getAsJsonObject("vocab");
        if (vocab.size() > vocabSize) {
            throw new IllegalArgumentException("the tokenizer in " + source + " has " + vocab.size()
                    + " tokens, more than the shape's vocabulary of " + vocabSize);
        }
        for (int id = vocab.size(); id < vocabSize; id++) {
            vocab.addProperty("<|extra_" + id + "|>", id);
        }
        Files.writeString(folder.resolve("tokenizer.json"), tokenizer.toString());
        Path config = source.resolve("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            Files.copy(config, folder.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void writeWeights(Path file, PeerShape s, long seed) throws IOException {
        long kvDim = (long) s.kvHeads() * s.headDim();
        try (Bf16SafetensorsWriter w = new Bf16SafetensorsWriter(file)) {
            w.declare("model.embed_tokens.weight", s.vocabSize(), s.dim());
            for (int l = 0; l < s.layers(); l++) {
                String p = "model.layers." + l + ".";
                w.declare(p + "input_layernorm.weight", s.dim());
                w.declare(p + "self_attn.q_proj.weight", s.dim(), s.dim());
                w.declare(p + "self_attn.k_proj.weight", kvDim, s.dim());
                w.declare(p + "self_attn.v_proj.weight", kvDim, s.dim());
                w.declare(p + "self_attn.o_proj.weight", s.dim(), s.dim());
                w.declare(p + "post_attention_layernorm.weight", s.dim());
                w.declare(p + "mlp.gate_proj.weight", s.hiddenDim(), s.dim());
                w.declare(p + "mlp.up_proj.weight", s.hiddenDim(), s.dim());
                w.declare(p + "mlp.down_proj.weight", s.dim(), s.hiddenDim());
            }
            w.declare("model.norm.weight", s.dim());
            if (!s.tiedEmbeddings()) {
                w.declare("lm_head.weight", s.vocabSize(), s.dim());
            }

            SplittableRandom random = new SplittableRandom(seed);
            Bf16SafetensorsWriter.Values normal = () -> (float) (random.nextGaussian() * WEIGHT_STD);
            Bf16SafetensorsWriter.Values one = () -> 1f;
            w.write("model.embed_tokens.weight", normal);
            for (int l = 0; l < s.layers(); l++) {
                String p = "model.layers." + l + ".";
                w.write(p + "input_layernorm.weight", one);
                w.write(p + "self_attn.q_proj.weight", normal);
                w.write(p + "self_attn.k_proj.weight", normal);
                w.write(p + "self_attn.v_proj.weight", normal);
                w.write(p + "self_attn.o_proj.weight", normal);
                w.write(p + "post_attention_layernorm.weight", one);
                w.write(p + "mlp.gate_proj.weight", normal);
                w.write(p + "mlp.up_proj.weight", normal);
                w.write(p + "mlp.down_proj.weight", normal);
            }
            w.write("model.norm.weight", one);
            if (!s.tiedEmbeddings()) {
                w.write("lm_head.weight", normal);
            }
        }
    }
}
