package io.qspec.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.TestModels;
import io.qspec.cpu.CpuBackend;
import io.qspec.model.Model;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BackendsTest {
    private static Model model;

    @BeforeAll
    static void load() {
        model = Model.load(TestModels.stories260K());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** A usable backend that refuses this model when opening it: {@code auto} logs why and takes the next. */
    @Test
    void autoOpensTheNextBackendWhenOneRefusesTheModel() {
        Backend refusing = backend("gpu", () -> {
            throw new BackendUnavailableException("heads of 96 dimensions are not supported");
        });
        try (ModelRunner runner = Backends.openFirst(List.of(refusing, new CpuBackend()), model, RunnerOptions.defaults())) {
            assertThat(runner.backendName()).isEqualTo("cpu");
        }
        assertThatThrownBy(() -> Backends.openFirst(List.of(refusing), model, RunnerOptions.defaults()))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("no backend can run")
                .hasMessageContaining("gpu: heads of 96 dimensions are not supported");
    }

    /** Only a refusal moves on: any other failure of the preferred backend is the caller's to see. */
    @Test
    void otherFailuresAreNotHiddenByAFallback() {
        Backend failing = backend("gpu", () -> {
            throw new IllegalStateException("device lost");
        });
        assertThatThrownBy(() -> Backends.openFirst(List.of(failing, new CpuBackend()), model, RunnerOptions.defaults()))
                .isInstanceOf(IllegalStateException.class).hasMessage("device lost");
    }

    private static Backend backend(String name, Supplier<ModelRunner> open) {
        return new Backend() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int priority() {
                return 100;
            }

            @Override
            public Availability availability() {
                return Availability.yes("a test backend");
            }

            @Override
            public ModelRunner open(Model m, RunnerOptions options) {
                return open.get();
            }
        };
    }
}
