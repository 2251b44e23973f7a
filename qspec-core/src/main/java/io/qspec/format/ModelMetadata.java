package io.qspec.format;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Key/value metadata of a model: GGUF metadata keys (e.g. {@code llama.embedding_length}) or the
 * entries of a Hugging Face {@code config.json} (e.g. {@code hidden_size}), plus, for Hugging Face
 * folders, {@code generation_config.json} and {@code tokenizer_config.json} under the prefixes
 * {@code generation_config.} and {@code tokenizer_config.}. Values are {@link Long},
 * {@link Double}, {@link Boolean}, {@link String}, {@link List} or {@link Map}.
 */
public interface ModelMetadata {

    /** Every key, in file order where the format has one. */
    Map<String, Object> asMap();

    default Optional<Object> get(String key) {
        return Optional.ofNullable(asMap().get(key));
    }

    default Optional<String> getString(String key) {
        return get(key).filter(String.class::isInstance).map(String.class::cast);
    }

    /** The value as a whole number: empty when absent, not a number, or a fraction or out of range (never rounded). */
    default Optional<Long> getLong(String key) {
        return get(key).flatMap(v -> switch (v) {
            case Long l -> Optional.of(l);
            case Integer i -> Optional.of(i.longValue());
            case Short s -> Optional.of(s.longValue());
            case Byte b -> Optional.of(b.longValue());
            case Double d when d == Math.rint(d) && Math.abs(d) < 0x1p63 -> Optional.of(d.longValue());
            case Float f when f == Math.rint(f) && Math.abs(f) < 0x1p63f -> Optional.of(f.longValue());
            case java.math.BigInteger b when b.bitLength() < 64 -> Optional.of(b.longValue());
            case java.math.BigDecimal b -> {
                try {
                    yield Optional.of(b.longValueExact());
                } catch (ArithmeticException e) {
                    yield Optional.empty();
                }
            }
            default -> Optional.empty();
        });
    }

    default Optional<Double> getDouble(String key) {
        return get(key).filter(Number.class::isInstance).map(v -> ((Number) v).doubleValue());
    }

    default Optional<Boolean> getBoolean(String key) {
        return get(key).filter(Boolean.class::isInstance).map(Boolean.class::cast);
    }

    @SuppressWarnings("unchecked")
    default Optional<List<Object>> getList(String key) {
        return get(key).filter(List.class::isInstance).map(v -> (List<Object>) v);
    }
}
