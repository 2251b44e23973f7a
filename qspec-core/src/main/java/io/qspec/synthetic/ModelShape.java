package io.qspec.synthetic;

import io.qspec.model.ModelConfig;
import io.qspec.model.RopeScaling;
import io.qspec.model.RopeStyle;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** Shapes of well-known Llama-family models, for random-weight benchmarks. */
public enum ModelShape {
    LLAMA_3_8B(4096, 14336, 32, 32, 8, 128256, 8192, 500000f, true, false),
    LLAMA_3_2_1B(2048, 8192, 16, 32, 8, 128256, 8192, 500000f, true, true),
    LLAMA_2_7B(4096, 11008, 32, 32, 32, 32000, 4096, 10000f, false, false),
    /** A small shape for tests and quick runs on a laptop CPU. */
    TINY(256, 688, 4, 8, 4, 1024, 1024, 10000f, false, false);

    private final int dim;
    private final int hidden;
    private final int layers;
    private final int heads;
    private final int kvHeads;
    private final int vocab;
    private final int context;
    private final float ropeTheta;
    private final boolean llama3Scaling;
    private final boolean tied;

    ModelShape(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int context, float ropeTheta,
               boolean llama3Scaling, boolean tied) {
        this.dim = dim;
        this.hidden = hidden;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.vocab = vocab;
        this.context = context;
        this.ropeTheta = ropeTheta;
        this.llama3Scaling = llama3Scaling;
        this.tied = tied;
    }

    /** The CLI name: {@code llama-3-8b}, {@code llama-3.2-1b}, {@code llama-2-7b}, {@code tiny}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace("_3_2_", "-3.2-").replace('_', '-');
    }

    public static ModelShape fromCliName(String name) {
        return Arrays.stream(values()).filter(s -> s.cliName().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown synthetic shape '" + name + "'; known: "
                        + Arrays.stream(values()).map(ModelShape::cliName).toList()));
    }

    public ModelConfig config() {
        return new ModelConfig("llama", dim, hidden, layers, heads, kvHeads, dim / heads, vocab, context, 1e-5f, ropeTheta,
                RopeStyle.HALF_SPLIT, llama3Scaling ? Optional.of(RopeScaling.llama3(8f, 1f, 4f, 8192)) : Optional.empty(), tied);
    }
}
