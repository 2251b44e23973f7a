package io.qspec.examples.bench;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.Precision;
import io.qspec.VerifyMode;
import io.qspec.accept.AcceptancePolicy;
import java.util.Locale;

/** One mode to benchmark, by its CLI name: fp32, w4a16, w4a8, w4a4, qspec-a8, qspec-a4. */
record BenchCase(String name, DecodingMode mode) {

    /** @param policy the acceptance policy of the qspec modes */
    static BenchCase parse(String name, int gamma, AcceptancePolicy policy) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "fp32", "w16a16" -> new BenchCase(n, DecodingMode.plain(Precision.FP32));
            case "w4a16" -> new BenchCase(n, DecodingMode.plain(Precision.W4A16));
            case "w4a8" -> new BenchCase(n, DecodingMode.plain(Precision.W4A8));
            case "w4a4" -> new BenchCase(n, DecodingMode.plain(Precision.W4A4));
            case "qspec-a8" -> new BenchCase(n, new DecodingMode.Speculative(new DraftMode(Precision.W4A8, gamma), VerifyMode.w4a16(), policy));
            case "qspec-a4" -> new BenchCase(n, new DecodingMode.Speculative(new DraftMode(Precision.W4A4, gamma), VerifyMode.w4a16(), policy));
            default -> throw new IllegalArgumentException("unknown mode '" + name + "'; use fp32, w4a16, w4a8, w4a4, qspec-a8, qspec-a4");
        };
    }

    boolean speculative() {
        return mode instanceof DecodingMode.Speculative;
    }

    int gamma() {
        return mode instanceof DecodingMode.Speculative s ? s.draft().gamma() : 0;
    }
}
