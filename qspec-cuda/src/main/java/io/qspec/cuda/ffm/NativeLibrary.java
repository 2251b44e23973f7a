package io.qspec.cuda.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * A shared library that was found and loaded, with the symbol lookup the bindings link against.
 *
 * @param description what the library is, for messages ("CUDA runtime")
 * @param origin      the file or soname it was loaded from
 * @param lookup      its symbols
 */
public record NativeLibrary(String description, String origin, SymbolLookup lookup) {
    private static final Linker LINKER = Linker.nativeLinker();

    /** A downcall handle to {@code symbol}; fails with a message naming the library when it is missing. */
    @SuppressWarnings("restricted") // loading and calling native code is this class's purpose
    public MethodHandle downcall(String symbol, FunctionDescriptor descriptor) {
        MemorySegment address = lookup.find(symbol).orElseThrow(() -> new UnsatisfiedLinkError(
                description + " (" + origin + ") has no symbol " + symbol));
        return LINKER.downcallHandle(address, descriptor);
    }

    /** A downcall handle to the first of {@code symbols} the library exports, if any. */
    @SuppressWarnings("restricted") // loading and calling native code is this class's purpose
    public Optional<MethodHandle> firstDowncall(FunctionDescriptor descriptor, String... symbols) {
        for (String symbol : symbols) {
            Optional<MemorySegment> address = lookup.find(symbol);
            if (address.isPresent()) {
                return Optional.of(LINKER.downcallHandle(address.get(), descriptor));
            }
        }
        return Optional.empty();
    }
}
