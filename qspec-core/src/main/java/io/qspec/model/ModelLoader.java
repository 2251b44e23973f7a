package io.qspec.model;

import io.qspec.QSpecException;
import io.qspec.arch.Architecture;
import io.qspec.arch.ArchitectureRegistry;
import io.qspec.arch.TensorNames;
import io.qspec.arch.TensorNames.Role;
import io.qspec.format.ModelFormatException;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorDecoding;
import io.qspec.format.TensorSource;
import io.qspec.format.TensorType;
import io.qspec.format.gguf.GgufFile;
import io.qspec.format.safetensors.HuggingFaceModelFolder;
import io.qspec.quant.Int4Matrix;
import io.qspec.quant.Int4Quantizer;
import io.qspec.tokenizer.BpeTokenizer;
import io.qspec.tokenizer.Tokenizer;
import io.qspec.tokenizer.Tokenizers;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns a {@code .gguf} file or a Hugging Face folder into a {@link Model}: reads the format,
 * resolves the architecture, checks every tensor's shape against the hyper-parameters, and
 * quantizes each linear layer to the shared INT4 set <em>once</em> (GGUF Q4_0 tensors are reused
 * as they are).
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    public static Model load(Path path, LoadOptions options) {
        if (!Files.exists(path)) {
            throw new QSpecException("model not found: " + path.toAbsolutePath()
                    + " (give a .gguf file or a Hugging Face model folder)");
        }
        TensorSource source = Files.isDirectory(path) ? HuggingFaceModelFolder.open(path) : GgufFile.open(path);
        Arena arena = Arena.ofShared();
        try {
            Architecture arch = ArchitectureRegistry.resolve(source);
            ModelConfig config;
            try {
                config = arch.config(source);
            } catch (IllegalArgumentException e) {  // ModelConfig's and RopeScaling's own checks, which name no file
                throw new ModelFormatException(path, "hyper-parameters do not describe a valid model: " + e.getMessage(), e);
            }
            Tokenizer tokenizer = Files.isDirectory(path)
                    ? BpeTokenizer.fromHuggingFaceFolder(path)
                    : Tokenizers.fromGguf(source.metadata(), path);
            if (tokenizer.vocabSize() > config.vocabSize()) {
                throw new ModelFormatException(path, "tokenizer has " + tokenizer.vocabSize()
                        + " tokens but the model's vocabulary is " + config.vocabSize());
            }
            ModelWeights weights = new WeightReader(source, arch.tensorNames(), config, options, arena).read();
            String name = path.getFileName().toString();
            String chatTemplate = source.metadata().getString("tokenizer.chat_template")
                    .or(() -> source.metadata().getString("tokenizer_config.chat_template")).orElse(null);
            return new Model(name, path, config, weights, tokenizer, options.quantScheme(), chatTemplate, () -> {
                arena.close();
                source.close();
            });
        } catch (RuntimeException e) {
            arena.close();
            source.close();
            throw e;
        }
    }

    /** Reads and checks the weights of one file. */
    private record WeightReader(TensorSource source, TensorNames names, ModelConfig config, LoadOptions options, Arena arena) {

        ModelWeights read() {
            RawTensor embedding = source.find(names.tokenEmbedding())
                    .or(() -> config.tiedEmbeddings() ? source.find(names.output()) : Optional.empty())
                    .orElseGet(() -> source.require(names.tokenEmbedding()));
            checkShape(embedding, config.vocabSize(), config.dim());
            RawTensor outputTensor = source.find(names.output()).orElse(embedding);
            boolean dense = switch (options.denseWeights()) {
                case ALWAYS -> true;
                case NEVER -> false;
                case WHEN_FREE -> outputTensor.type() == TensorType.F32 && allLayerWeightsF32();
            };
            List<LayerWeights> layers = new ArrayList<>();
            for (int i = 0; i < config.layers(); i++) {
                layers.add(new LayerWeights(
                        norm(names.layer(i, Role.ATTENTION_NORM)),
                        linear(names.layer(i, Role.Q), config.qDim(), config.dim(), dense),
                        linear(names.layer(i, Role.K), config.kvDim(), config.dim(), dense),
                        linear(names.layer(i, Role.V), config.kvDim(), config.dim(), dense),
                        linear(names.layer(i, Role.O), config.dim(), config.qDim(), dense),
                        norm(names.layer(i, Role.FFN_NORM)),
                        linear(names.layer(i, Role.GATE), config.hiddenDim(), config.dim(), dense),
                        linear(names.layer(i, Role.UP), config.hiddenDim(), config.dim(), dense),
                        linear(names.layer(i, Role.DOWN), config.dim(), config.hiddenDim(), dense)));
            }
            LinearWeight output = linear(outputTensor, config.vocabSize(), config.dim(), dense);
            return new ModelWeights(embedding, layers, norm(names.finalNorm()), output);
        }

        /** Whether every layer's linear weights are stored as F32 (a missing one fails later, with its name). */
        private boolean allLayerWeightsF32() {
            for (int i = 0; i < config.layers(); i++) {
                for (Role role : List.of(Role.Q, Role.K, Role.V, Role.O, Role.GATE, Role.UP, Role.DOWN)) {
                    Optional<RawTensor> t = source.find(names.layer(i, role));
                    if (t.isEmpty() || t.get().type() != TensorType.F32) {
                        return false;  // a missing tensor fails in read(), at once and with its name
                    }
                }
            }
            return true;
        }

        private float[] norm(String name) {
            RawTensor t = source.require(name);
            if (t.elementCount() != config.dim()) {
                throw new ModelFormatException(source.location(), "tensor " + t + " should hold " + config.dim() + " values");
            }
            return TensorDecoding.toFloatArray(t);
        }

        private LinearWeight linear(String name, int rows, int cols, boolean keepDense) {
            return linear(source.require(name), rows, cols, keepDense);
        }

        private LinearWeight linear(RawTensor t, int rows, int cols, boolean keepDense) {
            checkShape(t, rows, cols);
            Int4Matrix int4;
            try {
                int4 = t.type() == TensorType.Q4_0 && options.reuseQ4_0()
                        ? Int4Quantizer.fromQ4_0(arena, t)
                        : Int4Quantizer.quantize(arena, rows, cols, options.quantScheme(),
                                (row, dst) -> TensorDecoding.decodeRow(t, row, dst));
            } catch (IllegalArgumentException e) {  // a weight that is not finite, or too large for an FP16 scale
                throw new ModelFormatException(source.location(), "tensor " + t + ": " + e.getMessage(), e);
            }
            Optional<DenseMatrix> dense = Optional.empty();
            if (keepDense) {
                dense = Optional.of(new DenseMatrix(rows, cols, denseData(t, rows, cols)));
            }
            return new LinearWeight(t.name(), int4, dense);
        }

        /** A float32 view: zero-copy for F32 tensors, otherwise decoded once into the arena. */
        private MemorySegment denseData(RawTensor t, int rows, int cols) {
            if (t.type() == TensorType.F32) {
                return t.data();
            }
            MemorySegment out = arena.allocate((long) rows * cols * 4, 64);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                TensorDecoding.decodeRow(t, r, row);
                MemorySegment.copy(row, 0, out, DenseMatrix.LAYOUT, (long) r * cols * 4, cols);
            }
            return out;
        }

        private void checkShape(RawTensor t, int rows, int cols) {
            if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != cols) {
                throw new ModelFormatException(source.location(), "tensor " + t + " has the wrong shape: expected ["
                        + rows + ", " + cols + "] from the model's hyper-parameters");
            }
        }
    }
}
