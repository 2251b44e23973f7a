package io.qspec.examples.cli;

import io.qspec.model.LoadOptions;
import io.qspec.model.Model;
import io.qspec.quant.QuantScheme;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by the commands that load a model. */
final class CommonOptions {
    @Option(names = "--model", required = true, description = "A .gguf file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--group-size", defaultValue = "128",
            description = "INT4 group size: 32, 64, 128, or 0 for per-channel (default ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--backend", defaultValue = "auto", description = "auto, cpu or cuda (default ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--verbose", description = "Log which backend runs and why; full stack traces on errors.")
    boolean verbose;

    QuantScheme quantScheme() {
        return groupSize == 0 ? QuantScheme.perChannel() : QuantScheme.grouped(groupSize);
    }

    Model load(boolean dense) {
        return Model.load(model, LoadOptions.defaults().withQuantScheme(quantScheme()).withDenseWeights(dense));
    }
}
