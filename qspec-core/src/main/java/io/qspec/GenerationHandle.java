package io.qspec;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** A submitted request: wait for it, or cancel it (its KV memory is freed at the next step). */
public final class GenerationHandle {
    private final CompletableFuture<GenerationResult> result;
    private final Runnable canceller;

    public GenerationHandle(CompletableFuture<GenerationResult> result, Runnable canceller) {
        this.result = result;
        this.canceller = canceller;
    }

    /** Asks the engine to stop this request; it completes with {@link FinishReason#CANCELLED}. */
    public void cancel() {
        canceller.run();
    }

    /** Waits for the result; rethrows the request's failure (unwrapped when it is a {@link QSpecException}). */
    public GenerationResult join() {
        try {
            return result.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    public boolean isDone() {
        return result.isDone();
    }

    /** The result as a future, for composition. */
    public CompletableFuture<GenerationResult> future() {
        return result;
    }
}
