package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.qspec.backend.Backend;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class CudaBackendAvailabilityTest {

    @Test
    void availabilityNeverThrowsAndExplainsItself() {
        Backend.Availability availability = new CudaBackend().availability();

        assertThat(availability).isNotNull();
        assertThat(availability.reason()).isNotBlank();
        if (!availability.available()) {
            assertThat(availability.reason()).containsAnyOf("no CUDA runtime found", "no CUDA device",
                    "compute capability", "QSpec kernel library", "kernel library", "probing the CUDA backend failed");
        }
        System.out.println("cuda backend here: " + availability);
    }

    @Test
    void availabilityIsStableWhenAskedTwice() {
        CudaBackend backend = new CudaBackend();
        assertThat(backend.availability()).isEqualTo(backend.availability());
    }

    @Test
    void isRegisteredAsAServiceAndOutranksTheCpu() {
        assertThat(ServiceLoader.load(Backend.class).stream().map(ServiceLoader.Provider::type))
                .contains(CudaBackend.class);
        CudaBackend backend = new CudaBackend();
        assertThat(backend.name()).isEqualTo("cuda");
        assertThat(backend.priority()).isGreaterThan(0);
    }
}
