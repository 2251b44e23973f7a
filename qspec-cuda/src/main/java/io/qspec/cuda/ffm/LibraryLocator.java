package io.qspec.cuda.ffm;

import io.qspec.backend.BackendUnavailableException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds CUDA's shared libraries at run time. Directories are searched in order (each for every
 * soname, newest-first as listed), then the dynamic loader's own search by bare soname. When
 * nothing loads, the exception lists every directory searched and every version of the library
 * seen there, so that a user can tell a missing toolkit from a mismatched one.
 */
public final class LibraryLocator {
    /** System property naming a directory searched before all others. */
    public static final String LIBDIR_PROPERTY = "qspec.cuda.libdir";

    /** The dynamic loader's usual directories on Linux x86-64, listed in the message when nothing loads. */
    private static final List<Path> LOADER_DIRECTORIES = List.of(Path.of("/usr/lib/x86_64-linux-gnu"),
            Path.of("/lib/x86_64-linux-gnu"), Path.of("/usr/lib64"), Path.of("/lib64"), Path.of("/usr/lib"));

    private final List<Path> directories;
    private final boolean tryLoaderDefault;
    private final List<Path> loaderDirectories;

    /**
     * @param directories      directories to search, in order
     * @param tryLoaderDefault whether to finally ask the dynamic loader by bare soname
     */
    public LibraryLocator(List<Path> directories, boolean tryLoaderDefault) {
        this(directories, tryLoaderDefault, LOADER_DIRECTORIES);
    }

    /** As above, with the directories listed for the loader's default path named (for tests). */
    LibraryLocator(List<Path> directories, boolean tryLoaderDefault, List<Path> loaderDirectories) {
        this.directories = List.copyOf(directories);
        this.tryLoaderDefault = tryLoaderDefault;
        this.loaderDirectories = List.copyOf(loaderDirectories);
    }

    /** The standard search: property, CUDA_HOME, /usr/local/cuda, /usr/local/cuda-*, LD_LIBRARY_PATH, loader. */
    public static LibraryLocator forCuda() {
        return new LibraryLocator(cudaDirectories(System.getProperty(LIBDIR_PROPERTY), System.getenv("CUDA_HOME"),
                System.getenv("LD_LIBRARY_PATH"), Path.of("/usr/local")), true);
    }

    /** The standard directory list, from explicit inputs (any may be null) so that it can be tested. */
    public static List<Path> cudaDirectories(String libdirProperty, String cudaHome, String ldLibraryPath, Path usrLocal) {
        Set<Path> dirs = new LinkedHashSet<>();
        if (libdirProperty != null && !libdirProperty.isBlank()) {
            dirs.add(Path.of(libdirProperty));
        }
        if (cudaHome != null && !cudaHome.isBlank()) {
            dirs.add(Path.of(cudaHome, "lib64"));
        }
        dirs.add(usrLocal.resolve("cuda/lib64"));
        dirs.addAll(versionedCudaDirectories(usrLocal));
        if (ldLibraryPath != null) {
            for (String entry : ldLibraryPath.split(":")) {
                if (!entry.isBlank()) {
                    dirs.add(Path.of(entry));
                }
            }
        }
        return List.copyOf(dirs);
    }

    /** {@code /usr/local/cuda-X.Y/lib64}, newest version first. */
    private static List<Path> versionedCudaDirectories(Path usrLocal) {
        if (!Files.isDirectory(usrLocal)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(usrLocal)) {
            return entries.filter(p -> p.getFileName().toString().startsWith("cuda-"))
                    .sorted(Comparator.comparing((Path p) -> versionKey(p.getFileName().toString().substring(5))).reversed())
                    .map(p -> p.resolve("lib64"))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** "12.4" → 12_0004 so that versions sort numerically. */
    private static long versionKey(String version) {
        long key = 0;
        for (String part : version.split("\\.")) {
            try {
                key = key * 10_000 + Long.parseLong(part);
            } catch (NumberFormatException e) {
                key = key * 10_000;
            }
        }
        return key;
    }

    public List<Path> directories() {
        return directories;
    }

    /**
     * Loads the first of {@code sonames} found, searching every directory first and the loader last.
     *
     * @throws BackendUnavailableException naming every place searched and the versions seen
     */
    @SuppressWarnings("restricted") // loading and calling native code is this class's purpose
    public NativeLibrary locate(String description, List<String> sonames) {
        List<String> failures = new ArrayList<>();
        for (Path dir : directories) {
            for (String soname : sonames) {
                Path candidate = dir.resolve(soname);
                if (Files.exists(candidate)) {
                    try {
                        return new NativeLibrary(description, candidate.toString(),
                                SymbolLookup.libraryLookup(candidate, Arena.global()));
                    } catch (IllegalArgumentException e) {
                        failures.add(candidate + " did not load: " + e.getMessage());
                    }
                }
            }
        }
        if (tryLoaderDefault) {
            for (String soname : sonames) {
                try {
                    return new NativeLibrary(description, soname, SymbolLookup.libraryLookup(soname, Arena.global()));
                } catch (IllegalArgumentException e) {
                    // not on the loader's path either; reported below
                }
            }
        }
        throw new BackendUnavailableException(notFoundMessage(description, sonames, failures));
    }

    private String notFoundMessage(String description, List<String> sonames, List<String> failures) {
        String stem = stem(sonames.getFirst());
        List<String> seen = new ArrayList<>();
        Set<Path> looked = new LinkedHashSet<>(directories);
        if (tryLoaderDefault) {
            looked.addAll(loaderDirectories);  // where distribution packages put the libraries the loader finds
        }
        for (Path dir : looked) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(stem)).sorted()
                            .forEach(n -> seen.add(dir.resolve(n).toString()));
                } catch (IOException e) {
                    // unreadable directory: nothing seen there
                }
            }
        }
        StringBuilder m = new StringBuilder("no ").append(description).append(" found (tried ").append(sonames)
                .append("; searched: ").append(directories.isEmpty() ? "no directories" : directories.toString());
        if (tryLoaderDefault) {
            m.append(", then the dynamic loader's default path");
        }
        m.append("; versions present: ").append(seen.isEmpty() ? "none" : seen.toString());
        if (!failures.isEmpty()) {
            m.append("; load failures: ").append(failures);
        }
        m.append("). Set -D").append(LIBDIR_PROPERTY).append("=<dir> or CUDA_HOME.");
        return m.toString();
    }

    /** "libcudart.so.12" → "libcudart.so". */
    private static String stem(String soname) {
        int at = soname.indexOf(".so");
        return at < 0 ? soname : soname.substring(0, at + 3);
    }
}
