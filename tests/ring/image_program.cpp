// An external program (a shared object, loaded from the sandbox like any user's .so) for
// test_program_images.cpp. Its globals tell whether two processes running it share an image;
// its wait loop runs its own code while another process rewrites its file.
//   global FILE READY GO  ring READ of FILE into a global buffer, a global value and a C++
//                         inline function's static (STB_GNU_UNIQUE) set from FILE's first
//                         byte; then READY is created, GO awaited, and all three checked
//   wait READY GO         creates READY, awaits GO, then runs a little more of its code
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "toyos/liburing.h"
#include "toyos/sys.h"

using namespace toyos;

// External linkage on purpose: its static is an STB_GNU_UNIQUE symbol with GCC.
inline int& unique_static() {
    static int value = 0;
    return value;
}

namespace {

char g_buffer[4096];
int g_value = 0;

bool exists(const char* path) {
    struct stat st {};
    return sys::stat(path, &st) == 0;
}

int create(const char* path) {
    const int fd = sys::open(path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0) return fd;
    return sys::close(fd);
}

int await(const char* path) {
    for (int i = 0; i < 20000 && !exists(path); ++i) sys::sleep_ns(1'000'000);
    return exists(path) ? 0 : -1;
}

[[gnu::noinline]] unsigned checksum(const char* s, size_t n) {
    unsigned sum = 0;
    for (size_t i = 0; i < n; ++i) sum = sum * 31 + static_cast<unsigned char>(s[i]);
    return sum;
}

int run_global(const char* file, const char* ready, const char* go) {
    const int fd = sys::open(file, O_RDONLY);
    if (fd < 0) return 10;
    io_uring ring;
    if (io_uring_queue_init(4, &ring, 0) != 0) return 11;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fd, g_buffer, sizeof(g_buffer), 0);
    if (io_uring_submit(&ring) != 1) return 12;
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(&ring, &cqe) != 0 || cqe->res <= 0) return 13;
    const size_t n = static_cast<size_t>(cqe->res);
    io_uring_cqe_seen(&ring, cqe);
    char expect[sizeof(g_buffer)];
    if (sys::pread(fd, expect, n, 0) != static_cast<ssize_t>(n)) return 14;
    g_value = expect[0];
    unique_static() = expect[0];
    if (create(ready) != 0) return 15;
    if (await(go) != 0) return 16;
    if (std::memcmp(g_buffer, expect, n) != 0) return 3;  // another process's READ landed here
    if (g_value != expect[0]) return 4;
    if (unique_static() != expect[0]) return 5;
    io_uring_queue_exit(&ring);
    return 0;
}

int run_wait(const char* ready, const char* go) {
    if (create(ready) != 0) return 15;
    if (await(go) != 0) return 16;
    return checksum("still running", 13) == checksum("still running", 13) ? 0 : 17;
}

}  // namespace

extern "C" int toyos_main(int argc, char** argv) {
    if (argc == 5 && std::strcmp(argv[1], "global") == 0)
        return run_global(argv[2], argv[3], argv[4]);
    if (argc == 4 && std::strcmp(argv[1], "wait") == 0) return run_wait(argv[2], argv[3]);
    return 2;
}
