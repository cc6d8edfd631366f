// fuzz_path: path resolution in the sandbox. An input is a few path operations (open with any
// flags, openat on a directory fd, stat, mkdir, unlink, OPENAT through a ring) on
// input-chosen paths, often built from pieces that try to leave the root ("..", absolute
// paths, the symlinks escape -> ../outside/secret and absolute-escape -> <host>/outside/secret,
// /proc/self/..., a symlink loop). Invariants, checked after every input on the host:
// nothing outside the root was created, removed or changed, and no read through any fd the
// kernel handed out ever returned the secret that lives outside.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "harness.h"
#include "toyos/liburing.h"

using namespace toyos;
using toyos::fuzz::FuzzInput;
using toyos::fuzz::FuzzProcess;

namespace {

const char* const kPieces[] = {"..",     ".",    "/",    "escape",    "absolute-escape",
                               "loop",   "d",    "file", "hello.txt", "proc",
                               "self",   "root", "cwd",  "fd",        "outside",
                               "secret", "new",  "//",   "iouring",   "1"};

// A path: raw bytes, or pieces joined with '/'.
std::string make_path(FuzzInput& in) {
    const uint8_t how = in.u8();
    if (how & 1) return in.str();
    std::string p = (how & 2) ? "/" : "";
    const unsigned n = 1 + (how >> 2) % 8;
    for (unsigned i = 0; i < n; ++i) {
        if (i > 0) p += '/';
        p += kPieces[in.u8() % std::size(kPieces)];
    }
    return p;
}

[[noreturn]] void violated(const char* what, const std::string& path) {
    std::fprintf(stderr, "fuzz_path: %s (path \"%s\")\n", what, path.c_str());
    std::abort();
}

// Reads what `fd` gives (a file or a directory listing) and checks it is not the secret.
void read_and_check(FuzzProcess& fp, int fd, const std::string& path) {
    auto* buf = fp.scratch() + 16384;
    const ssize_t n = sys::read(fd, buf, 4096);
    if (n > 0 && memmem(buf, static_cast<size_t>(n), FuzzProcess::kSecret,
                        std::strlen(FuzzProcess::kSecret)) != nullptr)
        violated("read the secret that lives outside the sandbox", path);
    sys::getdents64(fd, buf, 4096);
}

std::string one_op(FuzzProcess& fp, FuzzInput& in) {
    const uint8_t op = in.u8();
    const std::string path = make_path(in);
    auto* upath = reinterpret_cast<char*>(fp.scratch() + 8192);
    std::memcpy(upath, path.c_str(), path.size() + 1);  // NUL-terminated (path may hold NULs)
    const int flags = static_cast<int>(in.u32()) & ~O_DIRECT;  // any flags; O_DIRECT adds nothing
    int fd = -1;
    switch (op % 7) {
        case 0:
            fd = sys::open(upath, flags, 0644);
            break;
        case 1:
            fd = sys::openat(fp.fixture(toyos::fuzz::kDir), upath, flags, 0644);
            break;
        case 2: {
            auto* st = reinterpret_cast<struct stat*>(fp.private_area());
            sys::stat(upath, st);
            break;
        }
        case 3:
            sys::mkdir(upath, 0755);
            break;
        case 4:
            sys::unlink(upath);
            break;
        case 5:
            fd = sys::open(upath, O_RDONLY);
            break;
        default: {  // OPENAT through a ring
            io_uring ring;
            if (io_uring_queue_init(2, &ring, 0) < 0) return path;
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            io_uring_prep_openat(sqe, (in.u8() & 1) ? AT_FDCWD : fp.fixture(toyos::fuzz::kDir),
                                 upath, flags, 0644);
            io_uring_cqe* cqe = nullptr;
            io_uring_submit(&ring);
            if (io_uring_wait_cqe(&ring, &cqe) == 0) {
                fd = cqe->res;
                io_uring_cqe_seen(&ring, cqe);
            }
            io_uring_queue_exit(&ring);
            break;
        }
    }
    if (fd >= 0) {
        read_and_check(fp, fd, path);
        sys::close(fd);
    }
    return path;
}

// The host side of the invariant: the fuzz folder holds root/ and outside/ only, and
// outside/ holds the secret only, unchanged.
void check_outside(FuzzProcess& fp, const std::string& last_path) {
    const std::string parent = fp.host_outside().substr(0, fp.host_outside().rfind('/'));
    for (const std::string& dir : {parent, fp.host_outside()}) {
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) violated("a folder outside the sandbox disappeared", last_path);
        while (dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name == "." || name == "..") continue;
            const bool expected =
                dir == parent ? (name == "root" || name == "outside") : name == "secret";
            if (!expected) violated("something was created outside the sandbox", last_path);
        }
        ::closedir(d);
    }
    std::ifstream in(fp.host_outside() + "/secret");
    const std::string content{std::istreambuf_iterator<char>(in), {}};
    if (content != FuzzProcess::kSecret) violated("the secret outside was changed", last_path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzProcess& fp = FuzzProcess::get();
    FuzzInput in(data, size);
    fp.begin_input(in);
    std::string last;
    const unsigned ops = 1 + in.u8() % 6;
    for (unsigned i = 0; i < ops && !in.empty(); ++i) last = one_op(fp, in);
    check_outside(fp, last);
    fp.restore_sandbox();
    fp.end_input();
    return 0;
}
