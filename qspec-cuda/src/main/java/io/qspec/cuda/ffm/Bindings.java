package io.qspec.cuda.ffm;

import io.qspec.backend.BackendUnavailableException;
import java.lang.foreign.ValueLayout;
import java.util.function.Supplier;

/** Shared pieces of the generated-style bindings: C type layouts and a memoized library load. */
final class Bindings {
    static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfFloat C_FLOAT = ValueLayout.JAVA_FLOAT;
    static final ValueLayout.OfDouble C_DOUBLE = ValueLayout.JAVA_DOUBLE;
    static final java.lang.foreign.AddressLayout C_POINTER = ValueLayout.ADDRESS;

    private Bindings() {
    }

    /** Loads a library once; a failure is remembered and rethrown (as a fresh exception) on every use. */
    static final class LazyLibrary {
        private final Supplier<NativeLibrary> loader;
        private volatile NativeLibrary library;
        private volatile BackendUnavailableException failure;

        LazyLibrary(Supplier<NativeLibrary> loader) {
            this.loader = loader;
        }

        NativeLibrary get() {
            NativeLibrary lib = library;
            if (lib != null) {
                return lib;
            }
            synchronized (this) {
                if (library == null && failure == null) {
                    try {
                        library = loader.get();
                    } catch (BackendUnavailableException e) {
                        failure = e;
                    } catch (RuntimeException | LinkageError e) {
                        failure = new BackendUnavailableException("loading failed: " + e, e);
                    }
                }
                if (failure != null) {
                    throw new BackendUnavailableException(failure.getMessage(), failure);
                }
                return library;
            }
        }
    }

    /** What a downcall's checked Throwable becomes: it can only be a JVM error, as jextract assumes. */
    static AssertionError unexpected(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        return new AssertionError("should not reach here", t);
    }
}
