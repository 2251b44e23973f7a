package io.qspec.arch;

import io.qspec.format.ModelFormatException;
import io.qspec.format.TensorSource;
import java.util.Optional;

/**
 * A model's integer hyper-parameters, read from its metadata in range: a file may claim any value, and one that is
 * missing, fractional, zero, negative or beyond an int is a {@link ModelFormatException} naming the file and key,
 * before any arithmetic (a head size of {@code dim / heads}, buffer sizes) is done with it.
 */
final class HyperParameters {
    private HyperParameters() {
    }

    /** The positive int at {@code key}; {@code where} names the place for messages ("metadata key", "config.json key"). */
    static int positive(TensorSource source, String where, String key) {
        return optionalPositive(source, where, key).orElseThrow(() ->
                new ModelFormatException(source.location(), where + " '" + key + "' is missing or not an integer"));
    }

    /** The positive int at {@code key}, or empty when the key is absent. */
    static Optional<Integer> optionalPositive(TensorSource source, String where, String key) {
        if (source.metadata().get(key).isEmpty()) {
            return Optional.empty();
        }
        long value = source.metadata().getLong(key).orElseThrow(() -> new ModelFormatException(source.location(),
                where + " '" + key + "' is " + shown(source.metadata().get(key).orElseThrow()) + ", not an integer"));
        if (value < 1 || value > Integer.MAX_VALUE) {
            throw new ModelFormatException(source.location(), where + " '" + key + "' is " + value
                    + "; expected an integer from 1 to " + Integer.MAX_VALUE);
        }
        return Optional.of((int) value);
    }

    private static String shown(Object value) {
        return value instanceof String text ? '"' + text + '"' : String.valueOf(value);
    }
}
