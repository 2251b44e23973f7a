package io.qspec.accept;

import java.util.List;
import java.util.Locale;

/**
 * Looks up acceptance policies by the names the CLI and configuration files use:
 * <ul>
 *   <li>{@code greedy}: {@link StrictGreedyAcceptance} (lossless, temperature 0)</li>
 *   <li>{@code rejection}: {@link RejectionSamplingAcceptance} (lossless at any temperature)</li>
 *   <li>{@code typical} or {@code typical:ε} or {@code typical:ε:α}: {@link TypicalAcceptanceLossy}
 *       (lossy; α defaults to √ε)</li>
 *   <li>{@code topk:N}: {@link TopKMatchAcceptanceLossy} with k = N (lossy)</li>
 * </ul>
 * Names are case-insensitive. {@code policy.name()} parses back to an equivalent policy.
 */
public final class AcceptancePolicies {
    /** The accepted forms, for help texts and error messages. */
    public static final List<String> NAMES = List.of("greedy", "rejection", "typical[:ε[:α]]", "topk:N");

    private AcceptancePolicies() {
    }

    /** @throws IllegalArgumentException for an unknown name or a malformed parameter */
    public static AcceptancePolicy byName(String name) {
        String normalized = java.util.Objects.requireNonNull(name, "name").strip().toLowerCase(Locale.ROOT);
        String[] parts = normalized.split(":", -1);
        return switch (parts[0]) {
            case "greedy" -> noParameters(parts, StrictGreedyAcceptance.INSTANCE);
            case "rejection" -> noParameters(parts, RejectionSamplingAcceptance.INSTANCE);
            case "typical" -> typical(parts, name);
            case "topk" -> {
                if (parts.length != 2) {
                    throw new IllegalArgumentException("expected topk:N (e.g. topk:3), got '" + name + "'");
                }
                yield new TopKMatchAcceptanceLossy(parseInt(parts[1], name));
            }
            default -> throw new IllegalArgumentException(
                    "unknown acceptance policy '" + name + "'; known: " + String.join(", ", NAMES));
        };
    }

    private static AcceptancePolicy noParameters(String[] parts, AcceptancePolicy policy) {
        if (parts.length != 1) {
            throw new IllegalArgumentException("policy '" + parts[0] + "' takes no parameters");
        }
        return policy;
    }

    private static AcceptancePolicy typical(String[] parts, String name) {
        return switch (parts.length) {
            case 1 -> new TypicalAcceptanceLossy();
            case 2 -> {
                double threshold = parseDouble(parts[1], name);
                yield new TypicalAcceptanceLossy(threshold, Math.sqrt(threshold));
            }
            case 3 -> new TypicalAcceptanceLossy(parseDouble(parts[1], name), parseDouble(parts[2], name));
            default -> throw new IllegalArgumentException("expected typical[:ε[:α]], got '" + name + "'");
        };
    }

    private static int parseInt(String text, String name) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' in policy '" + name + "' is not an integer", e);
        }
    }

    private static double parseDouble(String text, String name) {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' in policy '" + name + "' is not a number", e);
        }
    }
}
