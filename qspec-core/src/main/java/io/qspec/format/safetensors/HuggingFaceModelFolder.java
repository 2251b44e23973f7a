package io.qspec.format.safetensors;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A Hugging Face model folder as a {@link TensorSource}: {@code config.json} (plus the optional
 * {@code generation_config.json} and {@code tokenizer_config.json}) as {@link HuggingFaceMetadata},
 * and the tensors of either a single {@code model.safetensors} or, when there is none, the shards
 * listed in {@code model.safetensors.index.json}. All weight files are memory-mapped and validated on
 * {@link #open}; closing the folder unmaps them.
 */
public final class HuggingFaceModelFolder implements TensorSource {
    /** The model configuration; required. */
    public static final String CONFIG = "config.json";
    /** Sampling defaults; optional. */
    public static final String GENERATION_CONFIG = "generation_config.json";
    /** Tokenizer settings (BOS/EOS tokens, add_bos_token); optional. */
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    /** Weights in one file. */
    public static final String SINGLE_WEIGHTS = "model.safetensors";
    /** Index of sharded weights: {@code weight_map} from tensor name to shard file. */
    public static final String SHARD_INDEX = "model.safetensors.index.json";

    private final Path folder;
    private final HuggingFaceMetadata metadata;
    private final List<SafetensorsFile> files;
    private final Map<String, RawTensor> tensors;

    private HuggingFaceModelFolder(Path folder, HuggingFaceMetadata metadata, List<SafetensorsFile> files,
            Map<String, RawTensor> tensors) {
        this.folder = folder;
        this.metadata = metadata;
        this.files = files;
        this.tensors = tensors;
    }

    /**
     * Opens {@code folder}: reads the JSON configuration files and maps every weight file.
     *
     * @throws ModelFormatException naming the file concerned when {@code config.json} or the weights
     *     are missing, a JSON file is malformed, a shard is missing, or a weight file is corrupt
     */
    public static HuggingFaceModelFolder open(Path folder) {
        Path dir = folder.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir, "is not a folder; expected a Hugging Face model folder holding "
                    + CONFIG + " and " + SINGLE_WEIGHTS + " or " + SHARD_INDEX);
        }
        Path config = dir.resolve(CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new ModelFormatException(dir, "no " + CONFIG + " in this folder (looked for " + CONFIG + ", "
                    + SINGLE_WEIGHTS + " and " + SHARD_INDEX + "; found: " + listing(dir) + ")");
        }
        HuggingFaceMetadata metadata = HuggingFaceMetadata.of(
                JsonValues.toMap(JsonValues.readObject(config)),
                optionalJson(dir.resolve(GENERATION_CONFIG)),
                optionalJson(dir.resolve(TOKENIZER_CONFIG)));

        Path index = dir.resolve(SHARD_INDEX);
        Path single = dir.resolve(SINGLE_WEIGHTS);
        // The single file wins when both exist, as in transformers.
        if (Files.isRegularFile(single)) {
            SafetensorsFile file = SafetensorsFile.open(single);
            return new HuggingFaceModelFolder(dir, metadata, List.of(file), file.tensors());
        }
        if (Files.isRegularFile(index)) {
            return openSharded(dir, metadata, index);
        }
        throw new ModelFormatException(dir, "no weights in this folder (looked for " + SINGLE_WEIGHTS + " and "
                + SHARD_INDEX + "; QSpec reads only safetensors weights; found: " + listing(dir) + ")");
    }

    private static HuggingFaceModelFolder openSharded(Path dir, HuggingFaceMetadata metadata, Path index) {
        JsonElement weightMap = JsonValues.readObject(index).get("weight_map");
        if (weightMap == null || !weightMap.isJsonObject()) {
            throw new ModelFormatException(index, "has no 'weight_map' object (tensor name → shard file)");
        }
        // Group tensor names by shard, keeping the index's order, so each shard is opened once.
        Map<String, List<String>> namesByShard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : weightMap.getAsJsonObject().entrySet()) {
            JsonElement shard = e.getValue();
            if (!shard.isJsonPrimitive() || !shard.getAsJsonPrimitive().isString()) {
                throw new ModelFormatException(index, "weight_map entry for tensor '" + e.getKey()
                        + "' must name a shard file but is " + JsonValues.describe(shard));
            }
            namesByShard.computeIfAbsent(shard.getAsString(), k -> new ArrayList<>()).add(e.getKey());
        }
        if (namesByShard.isEmpty()) {
            throw new ModelFormatException(index, "weight_map is empty; the index lists no tensors");
        }
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, RawTensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> e : namesByShard.entrySet()) {
                Path shardPath;
                try {
                    shardPath = dir.resolve(e.getKey()).normalize();
                } catch (java.nio.file.InvalidPathException bad) {
                    throw new ModelFormatException(index, "weight_map names shard '" + e.getKey()
                            + "', which is not a valid file name: " + bad.getReason());
                }
                if (!shardPath.startsWith(dir)) {
                    throw new ModelFormatException(index, "shard '" + e.getKey() + "' lies outside the model folder");
                }
                if (!Files.isRegularFile(shardPath)) {
                    throw new ModelFormatException(shardPath, "shard " + e.getKey() + " is missing: " + SHARD_INDEX
                            + " lists it for " + e.getValue().size() + " tensors (e.g. '" + e.getValue().getFirst()
                            + "') — download the complete model");
                }
                SafetensorsFile shard = SafetensorsFile.open(shardPath);
                opened.add(shard);
                for (String name : e.getValue()) {
                    RawTensor t = shard.find(name).orElseThrow(() -> new ModelFormatException(shardPath,
                            "tensor '" + name + "' is listed for this shard in " + SHARD_INDEX + " but the shard does not hold it"));
                    tensors.put(name, t);
                }
            }
            return new HuggingFaceModelFolder(dir, metadata, List.copyOf(opened), Collections.unmodifiableMap(tensors));
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, Object> optionalJson(Path file) {
        return Files.isRegularFile(file) ? JsonValues.toMap(JsonValues.readObject(file)) : Map.of();
    }

    private static String listing(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            List<String> names = entries.map(p -> p.getFileName().toString()).sorted().limit(20).toList();
            return names.isEmpty() ? "nothing" : String.join(", ", names);
        } catch (IOException e) {
            return "(folder cannot be listed: " + e.getMessage() + ")";
        }
    }

    /** The weight files, in the order they were opened. */
    public List<Path> weightFiles() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    @Override
    public Path location() {
        return folder;
    }

    @Override
    public Set<String> tensorNames() {
        return tensors.keySet();
    }

    @Override
    public Optional<RawTensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public ModelMetadata metadata() {
        return metadata;
    }

    /** Unmaps every weight file. */
    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
