package io.qspec.format.gguf;

import io.qspec.format.ModelMetadata;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** GGUF key/value metadata in file order; immutable. */
record GgufMetadata(Map<String, Object> asMap) implements ModelMetadata {

    GgufMetadata {
        asMap = Collections.unmodifiableMap(new LinkedHashMap<>(asMap));
    }

    @Override
    public String toString() {
        return "GgufMetadata" + asMap.keySet();
    }
}
