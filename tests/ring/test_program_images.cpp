// External programs run from a private image per process (kernel/program_catalog.h): two
// processes of one .so do not share globals, and rewriting the .so while it runs changes
// nothing for the running process (nor kills the kernel).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "ring_test_support.h"
#include "toy_program_checks.h"

using namespace toyos;

namespace {

bool exists(const char* path) {
    struct stat st {};
    return sys::stat(path, &st) == 0;
}

int await(const char* path) {
    for (int i = 0; i < 20000 && !exists(path); ++i) sys::sleep_ns(1'000'000);
    return exists(path) ? 0 : -1;
}

int create(const char* path) {
    const int fd = sys::open(path, O_WRONLY | O_CREAT, 0644);
    return fd < 0 ? fd : sys::close(fd);
}

// Two processes of /prog.so, each with a ring READ of its own file into the program's global
// buffer: the second's READ must not reach the first's buffer, nor its other globals.
int prog_two_images(int, char**) {
    const char* first[] = {"prog", "global", "/a.txt", "/a.ready", "/go", nullptr};
    const char* second[] = {"prog", "global", "/b.txt", "/b.ready", "/go", nullptr};
    const pid_t a = sys::spawn("/prog.so", first);
    T_CHECK(a > 0);
    T_CHECK(await("/a.ready") == 0);
    const pid_t b = sys::spawn("/prog.so", second);
    T_CHECK(b > 0);
    T_CHECK(await("/b.ready") == 0);
    T_CHECK(create("/go") == 0);
    int status_a = 0, status_b = 0;
    T_CHECK(sys::waitpid(a, &status_a, 0) == a);
    T_CHECK(sys::waitpid(b, &status_b, 0) == b);
    if (exit_code(status_a) != 0 || exit_code(status_b) != 0) {
        io::printf(2, "first exited %d, second %d\n", exit_code(status_a), exit_code(status_b));
        return 1;
    }
    return 0;
}

// A process runs /prog.so while another truncates its file, then overwrites every byte with
// int3 instructions: the running process completes, and the rewritten file is refused.
int prog_rewrite_running(int, char**) {
    struct stat st {};
    T_CHECK(sys::stat("/prog.so", &st) == 0);
    const char* argv[] = {"prog", "wait", "/ready", "/go", nullptr};
    const pid_t child = sys::spawn("/prog.so", argv);
    T_CHECK(child > 0);
    T_CHECK(await("/ready") == 0);
    const int fd = sys::open("/prog.so", O_WRONLY | O_TRUNC);
    T_CHECK(fd >= 0);
    sys::sleep_ns(20'000'000);  // the child runs its wait loop on a file of 0 bytes
    static char int3[1 << 16];
    std::memset(int3, 0xcc, sizeof(int3));
    for (off_t done = 0; done < st.st_size;) {
        const ssize_t n = sys::write(fd, int3, sizeof(int3));
        T_CHECK(n > 0);
        done += n;
    }
    sys::close(fd);
    sys::sleep_ns(20'000'000);  // and on a file of traps
    T_CHECK(create("/go") == 0);
    int status = 0;
    T_CHECK(sys::waitpid(child, &status, 0) == child);
    T_CHECK(exit_code(status) == 0);
    T_CHECK(sys::spawn("/prog.so", argv) == -ENOEXEC);  // not an ELF object any more
    return 0;
}

void install_program(const test::TempRoot& root) {
    std::filesystem::copy_file(TOYOS_IMAGE_PROGRAM, root.path() + "/prog.so");
}

TEST(ProgramImages, TwoProcessesOfOneSharedObjectHaveTheirOwnGlobals) {
    test::TempRoot root;
    install_program(root);
    root.write("a.txt", std::string(3000, 'a'));
    root.write("b.txt", std::string(3000, 'b'));
    EXPECT_EQ(exit_code(test::run_program(root.path(), "parent", prog_two_images)), 0);
}

TEST(ProgramImages, RewritingARunningProgramsFileChangesNothingForIt) {
    test::TempRoot root;
    install_program(root);
    EXPECT_EQ(exit_code(test::run_program(root.path(), "parent", prog_rewrite_running)), 0);
}

}  // namespace
