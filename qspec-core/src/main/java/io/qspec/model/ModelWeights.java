package io.qspec.model;

import io.qspec.format.RawTensor;
import java.util.List;

/**
 * All weights of a Llama-family model. The token embedding stays in its stored form (rows are
 * decoded on lookup); linear layers carry the shared INT4 set; the output projection is a copy of
 * the quantized embedding when embeddings are tied.
 */
public record ModelWeights(RawTensor tokenEmbedding, List<LayerWeights> layers, float[] finalNorm, LinearWeight output) {
    public ModelWeights {
        layers = List.copyOf(layers);
    }

    /** Every linear layer in execution order, the output projection last. */
    public List<LinearWeight> linearLayers() {
        var all = new java.util.ArrayList<LinearWeight>();
        for (LayerWeights l : layers) {
            all.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down()));
        }
        all.add(output);
        return all;
    }

    /** Bytes of 4-bit weights (packed values and scales) one forward pass reads. */
    public long int4Bytes() {
        return linearLayers().stream().mapToLong(w -> w.int4().byteSize()).sum();
    }
}
