package io.qspec;

import io.qspec.accept.AcceptancePolicy;
import io.qspec.accept.StrictGreedyAcceptance;
import io.qspec.draft.DraftLengthPolicy;
import java.util.Objects;

/** How tokens are produced: plainly in one precision, or with QSpec's draft/verify rounds. */
public sealed interface DecodingMode {

    /** One forward pass per token, all in {@code precision}. */
    record Plain(Precision precision) implements DecodingMode {
        public Plain {
            Objects.requireNonNull(precision, "precision");
        }
    }

    /**
     * QSpec: draft in low precision (at most {@code draft.gamma()} tokens a round, as
     * {@code draftLength} decides), verify in W4A16, decide with {@code acceptance}.
     */
    record Speculative(DraftMode draft, VerifyMode verify, AcceptancePolicy acceptance, DraftLengthPolicy draftLength)
            implements DecodingMode {
        public Speculative {
            Objects.requireNonNull(draft, "draft");
            Objects.requireNonNull(verify, "verify");
            Objects.requireNonNull(acceptance, "acceptance");
            Objects.requireNonNull(draftLength, "draftLength");
        }

        /** With a fixed draft length γ = {@code draft.gamma()}. */
        public Speculative(DraftMode draft, VerifyMode verify, AcceptancePolicy acceptance) {
            this(draft, verify, acceptance, DraftLengthPolicy.fixed());
        }

        public Speculative withAcceptance(AcceptancePolicy policy) {
            return new Speculative(draft, verify, policy, draftLength);
        }

        public Speculative withDraftLength(DraftLengthPolicy policy) {
            return new Speculative(draft, verify, acceptance, policy);
        }
    }

    static DecodingMode plain(Precision precision) {
        return new Plain(precision);
    }

    /** QSpec with the given draft, W4A16 verify and strict greedy acceptance. */
    static DecodingMode qspec(DraftMode draft) {
        return new Speculative(draft, VerifyMode.w4a16(), StrictGreedyAcceptance.INSTANCE);
    }

    /** A short label for reports: {@code w4a16}, {@code qspec-a8-g3}. */
    default String label() {
        return switch (this) {
            case Plain p -> p.precision().name().toLowerCase(java.util.Locale.ROOT);
            case Speculative s -> "qspec-a" + s.draft().precision().activationBits() + "-g" + s.draft().gamma();
        };
    }
}
