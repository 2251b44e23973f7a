package io.qspec;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.accept.AcceptancePolicies;
import io.qspec.model.LoadOptions;
import io.qspec.model.Model;
import org.junit.jupiter.api.Test;

/** A null where the API wants a value is refused at the call, naming the parameter. */
class NullArgumentsTest {

    @Test
    void nullArgumentsNameTheirParameter() {
        GenerationRequest.Builder builder = GenerationRequest.builder("x");
        assertThatThrownBy(() -> builder.stopTokenIds((int[]) null)).isInstanceOf(NullPointerException.class)
                .hasMessage("stopTokenIds");
        assertThatThrownBy(() -> builder.stopStrings((String[]) null)).isInstanceOf(NullPointerException.class)
                .hasMessage("stopStrings");
        assertThatThrownBy(() -> Model.load(null)).isInstanceOf(NullPointerException.class).hasMessage("path");
        assertThatThrownBy(() -> Model.load(TestModels.stories260K(), (LoadOptions) null))
                .isInstanceOf(NullPointerException.class).hasMessage("options");
        assertThatThrownBy(() -> AcceptancePolicies.byName(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("name");
    }
}
