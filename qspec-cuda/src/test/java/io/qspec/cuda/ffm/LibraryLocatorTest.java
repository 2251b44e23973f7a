package io.qspec.cuda.ffm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.backend.BackendUnavailableException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibraryLocatorTest {

    @Test
    void missingLibraryListsEveryDirectorySearchedAndTheVersionsSeen(@TempDir Path tmp) throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        Path withOldVersion = Files.createDirectory(tmp.resolve("old"));
        Files.writeString(withOldVersion.resolve("libqspecbogus.so.11.8"), "not a library");
        Path absent = tmp.resolve("does-not-exist");
        LibraryLocator locator = new LibraryLocator(List.of(empty, withOldVersion, absent), false);

        assertThatThrownBy(() -> locator.locate("bogus runtime", List.of("libqspecbogus.so", "libqspecbogus.so.13")))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("no bogus runtime found")
                .hasMessageContaining(empty.toString())
                .hasMessageContaining(withOldVersion.toString())
                .hasMessageContaining(absent.toString())
                .hasMessageContaining("libqspecbogus.so.13")
                .hasMessageContaining(withOldVersion.resolve("libqspecbogus.so.11.8").toString());
    }

    @Test
    void aPresentButBrokenLibraryIsReportedAsALoadFailure(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("libqspecbogus.so"), "not an ELF file");
        LibraryLocator locator = new LibraryLocator(List.of(tmp), false);

        assertThatThrownBy(() -> locator.locate("bogus runtime", List.of("libqspecbogus.so")))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("load failures")
                .hasMessageContaining(tmp.resolve("libqspecbogus.so").toString());
    }

    @Test
    void theLoaderDefaultIsTriedLastAndMentioned(@TempDir Path tmp) {
        LibraryLocator locator = new LibraryLocator(List.of(tmp), true);

        assertThatThrownBy(() -> locator.locate("bogus runtime", List.of("libqspecbogus-never.so")))
                .hasMessageContaining("dynamic loader's default path");
    }

    /** Versions the loader could see (in the system's library directories) are listed too, not only the searched ones. */
    @Test
    void versionsInTheLoadersDirectoriesAreListed(@TempDir Path tmp) throws IOException {
        Path searched = Files.createDirectories(tmp.resolve("searched"));
        Path system = Files.createDirectories(tmp.resolve("usr-lib"));
        Files.writeString(system.resolve("libqspecbogus.so.11"), "not a library");
        LibraryLocator locator = new LibraryLocator(List.of(searched), true, List.of(system));

        assertThatThrownBy(() -> locator.locate("bogus runtime", List.of("libqspecbogus.so.13")))
                .hasMessageContaining(system.resolve("libqspecbogus.so.11").toString());
    }

    @Test
    void standardSearchOrderIsPropertyCudaHomeUsrLocalVersionedThenLdLibraryPath(@TempDir Path usrLocal) throws IOException {
        Files.createDirectories(usrLocal.resolve("cuda-12.4/lib64"));
        Files.createDirectories(usrLocal.resolve("cuda-13.0/lib64"));
        Files.createDirectories(usrLocal.resolve("cuda-12.10/lib64"));

        List<Path> dirs = LibraryLocator.cudaDirectories("/opt/prop", "/opt/home", "/a:/b::", usrLocal);

        assertThat(dirs).containsExactly(Path.of("/opt/prop"), Path.of("/opt/home/lib64"), usrLocal.resolve("cuda/lib64"),
                usrLocal.resolve("cuda-13.0/lib64"), usrLocal.resolve("cuda-12.10/lib64"), usrLocal.resolve("cuda-12.4/lib64"),
                Path.of("/a"), Path.of("/b"));
    }

    @Test
    void unsetInputsAreSkipped(@TempDir Path usrLocal) {
        assertThat(LibraryLocator.cudaDirectories(null, "", null, usrLocal)).containsExactly(usrLocal.resolve("cuda/lib64"));
    }
}
