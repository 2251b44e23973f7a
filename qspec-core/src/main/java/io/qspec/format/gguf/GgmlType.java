package io.qspec.format.gguf;

import io.qspec.format.TensorType;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * ggml tensor type numbers as written in GGUF tensor infos. Only a few map to a {@link TensorType};
 * the others are named so that the error for an unsupported file says what the file actually holds.
 */
final class GgmlType {

    /** ggml type number to the element type we can read. */
    private static final Map<Integer, TensorType> SUPPORTED = Map.ofEntries(
            Map.entry(0, TensorType.F32),
            Map.entry(1, TensorType.F16),
            Map.entry(2, TensorType.Q4_0),
            Map.entry(3, TensorType.Q4_1),
            Map.entry(6, TensorType.Q5_0),
            Map.entry(7, TensorType.Q5_1),
            Map.entry(8, TensorType.Q8_0),
            Map.entry(10, TensorType.Q2_K),
            Map.entry(11, TensorType.Q3_K),
            Map.entry(12, TensorType.Q4_K),
            Map.entry(13, TensorType.Q5_K),
            Map.entry(14, TensorType.Q6_K),
            Map.entry(20, TensorType.IQ4_NL),
            Map.entry(23, TensorType.IQ4_XS),
            Map.entry(30, TensorType.BF16));

    /** Names from ggml.h, for messages; gaps are type numbers ggml has retired. */
    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(0, "F32"), Map.entry(1, "F16"), Map.entry(2, "Q4_0"), Map.entry(3, "Q4_1"),
            Map.entry(6, "Q5_0"), Map.entry(7, "Q5_1"), Map.entry(8, "Q8_0"), Map.entry(9, "Q8_1"),
            Map.entry(10, "Q2_K"), Map.entry(11, "Q3_K"), Map.entry(12, "Q4_K"), Map.entry(13, "Q5_K"),
            Map.entry(14, "Q6_K"), Map.entry(15, "Q8_K"), Map.entry(16, "IQ2_XXS"), Map.entry(17, "IQ2_XS"),
            Map.entry(18, "IQ3_XXS"), Map.entry(19, "IQ1_S"), Map.entry(20, "IQ4_NL"), Map.entry(21, "IQ3_S"),
            Map.entry(22, "IQ2_S"), Map.entry(23, "IQ4_XS"), Map.entry(24, "I8"), Map.entry(25, "I16"),
            Map.entry(26, "I32"), Map.entry(27, "I64"), Map.entry(28, "F64"), Map.entry(29, "IQ1_M"),
            Map.entry(30, "BF16"), Map.entry(34, "TQ1_0"), Map.entry(35, "TQ2_0"), Map.entry(39, "MXFP4"));

    private GgmlType() {
    }

    static Optional<TensorType> toTensorType(int ggmlType) {
        return Optional.ofNullable(SUPPORTED.get(ggmlType));
    }

    /** "12 (Q4_K)", or "77 (unknown)" for numbers ggml does not define. */
    static String describe(int ggmlType) {
        return Integer.toUnsignedString(ggmlType) + " (" + NAMES.getOrDefault(ggmlType, "unknown") + ")";
    }

    /** "F32 (0), F16 (1), ..." in type-number order. */
    static String supportedList() {
        return SUPPORTED.keySet().stream().sorted()
                .map(n -> NAMES.get(n) + " (" + n + ")")
                .collect(Collectors.joining(", "));
    }
}
