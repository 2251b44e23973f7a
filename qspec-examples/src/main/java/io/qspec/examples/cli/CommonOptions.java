package io.qspec.examples.cli;

import io.qspec.model.LoadOptions;
import io.qspec.model.Model;
import io.qspec.quant.QuantScheme;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by the commands that load a model. */
public final class CommonOptions {
    @Option(names = "--model", required = true, description = "A .gguf file or a Hugging Face model folder.")
    public Path model;

    @Option(names = "--group-size", defaultValue = "128",
            description = "INT4 group size: 32, 64, 128, or 0 for per-channel (default ${DEFAULT-VALUE}).")
    public int groupSize;

    @Option(names = "--backend", defaultValue = "auto", description = "auto, cpu or cuda (default ${DEFAULT-VALUE}).")
    public String backend;

    @Option(names = "--verbose", description = "Log which backend runs and why; full stack traces on errors.")
    public boolean verbose;

    public QuantScheme quantScheme() {
        return CliSupport.quantScheme(groupSize);
    }

    public Model load(boolean dense) {
        return Model.load(model, LoadOptions.defaults().withQuantScheme(quantScheme()).withDenseWeights(dense));
    }
}
