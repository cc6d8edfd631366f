// The toyos side of the differential tests: the scenarios run as a toy process (pid 1 of a
// kernel booted on a temporary sandbox) through <toyos/liburing.h>, with toy fds from
// toyos::sys. The executor is the kernel's default: $TOYOS_EXECUTOR (uring or threads).
#include <arpa/inet.h>
#include <sys/wait.h>

#include <sys/stat.h>

#include <string>

#include "liburing_api.h"
#include "ring_test_support.h"
#include "runners.h"
#include "toyos/liburing.h"
#include "toyos/sys.h"

// After <toyos/liburing.h>: the scenarios name io_uring_sqe/cqe and __kernel_timespec.
#include "scenarios.h"

namespace toyos::diff {
namespace {

class ToyBackend {
  public:
    using Ring = ::toyos::io_uring;
#define TOYOS_DIFF_TOY_FORWARD(name) TOYOS_DIFF_FORWARD(::toyos, name)
    TOYOS_DIFF_LIBURING_API(TOYOS_DIFF_TOY_FORWARD)
#undef TOYOS_DIFF_TOY_FORWARD

    Ring ring{};

    ToyBackend() {
        dir_fd_ = sys::open("/", O_DIRECTORY | O_RDONLY);
        init_ = ::toyos::io_uring_queue_init(16, &ring, 0);
    }
    ~ToyBackend() {
        if (init_ == 0) ::toyos::io_uring_queue_exit(&ring);
        if (dir_fd_ >= 0) sys::close(dir_fd_);
    }
    ToyBackend(const ToyBackend&) = delete;
    ToyBackend& operator=(const ToyBackend&) = delete;

    std::string setup_error() const {
        if (dir_fd_ < 0) return "open /: " + std::to_string(dir_fd_);
        if (init_ < 0) return "io_uring_queue_init: " + std::to_string(init_);
        return "";
    }

    // io_uring_enter(GETEVENTS | EXT_ARG) with a timeout and nothing to submit: res or -errno.
    int enter_getevents(unsigned min_complete, const __kernel_timespec* ts) {
        io_uring_getevents_arg arg{};
        arg.ts = reinterpret_cast<uint64_t>(ts);
        return sys::io_uring_enter(ring.ring_fd, 0, min_complete,
                                   IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg,
                                   sizeof(arg));
    }

    // io_uring_enter(fd, 0, 0, flags) as it is: res or -errno.
    int enable_rings(Ring* r) {
        return ::toyos::io_uring_enable_rings(r);
    }
    int enter_raw(unsigned fd, unsigned flags) {
        return sys::io_uring_enter(static_cast<int>(fd), 0, 0, flags, nullptr, 0);
    }

    int dir_fd() const {
        return dir_fd_;
    }
    int create_file(const char* name, const char* content) {
        const int fd = sys::openat(dir_fd_, name, O_CREAT | O_RDWR | O_TRUNC, 0644);
        if (fd < 0) return fd;
        const size_t n = std::strlen(content);
        if (n > 0 && sys::write(fd, content, n) != static_cast<ssize_t>(n)) return -EIO;
        return fd;
    }
    int open_file(const char* name, int flags) {
        return sys::openat(dir_fd_, name, flags);
    }
    std::string file_content(const char* name) {
        const int fd = sys::openat(dir_fd_, name, O_RDONLY);
        if (fd < 0) return "<open: " + std::to_string(-fd) + ">";
        std::string out;
        char buf[256];
        ssize_t n;
        while ((n = sys::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
        sys::close(fd);
        return out;
    }
    int tcp_socket() {
        return sys::socket(AF_INET, SOCK_STREAM, 0);
    }
    int tcp_listener(sockaddr_in* addr) {
        const int fd = tcp_socket();
        if (fd < 0) return fd;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(a);
        int r = sys::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
        if (r == 0) r = sys::listen(fd, 4);
        if (r == 0) r = sys::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        if (r < 0) {
            sys::close(fd);
            return r;
        }
        *addr = a;
        return fd;
    }
    int tcp_pair(int* server, int* client) {
        sockaddr_in addr{};
        const int lfd = tcp_listener(&addr);
        if (lfd < 0) return lfd;
        *client = tcp_socket();
        const int r = sys::connect(*client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
        *server = sys::accept(lfd, nullptr, nullptr);
        sys::close(lfd);
        return r < 0 || *server < 0 ? -EIO : 0;
    }
    int bound_socket(sockaddr_in* addr) {
        const int fd = tcp_socket();
        if (fd < 0) return fd;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(a);
        int r = sys::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
        if (r == 0) r = sys::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        if (r < 0) {
            sys::close(fd);
            return r;
        }
        *addr = a;
        return fd;
    }
    // The fd calls as they are: res or -errno.
    int dup(int fd) {
        return sys::dup(fd);
    }
    int dup2(int fd, int target) {
        return sys::dup2(fd, target);
    }
    int dup3(int fd, int target, int flags) {
        return sys::dup3(fd, target, flags);
    }
    int fcntl(int fd, int cmd, long arg = 0) {
        return sys::fcntl(fd, cmd, arg);
    }
    // An absolute path (a device): res or -errno.
    int open_path(const char* path, int flags) {
        return sys::open(path, flags, 0644);
    }
    // fstat's st_mode and st_rdev, or -errno.
    long long fstat_mode(int fd) {
        struct stat st {};
        const int r = sys::fstat(fd, &st);
        return r < 0 ? r : static_cast<long long>(st.st_mode);
    }
    long long fstat_rdev(int fd) {
        struct stat st {};
        const int r = sys::fstat(fd, &st);
        return r < 0 ? r : static_cast<long long>(st.st_rdev);
    }

    int connect(int fd, const sockaddr_in* addr) {
        return sys::connect(fd, reinterpret_cast<const sockaddr*>(addr), sizeof(*addr));
    }
    long send(int fd, const void* buf, size_t len) {
        return sys::send(fd, buf, len, 0);
    }
    int close(int fd) {
        return sys::close(fd);
    }

  private:
    int dir_fd_ = -1;
    int init_ = -1;
};

// The toy program: runs g_scenario and leaves what it saw in g_outcome.
Outcome (*g_scenario)(ToyBackend&) = nullptr;
Outcome g_outcome;

int scenario_program(int, char**) {
    ToyBackend b;
    if (std::string e = b.setup_error(); !e.empty()) {
        g_outcome.failures.push_back("toy backend: " + e);
        return 1;
    }
    g_outcome = g_scenario(b);
    return 0;
}

Outcome run(Outcome (*scenario)(ToyBackend&)) {
    g_scenario = scenario;
    g_outcome = Outcome{};
    test::TempRoot root;
    const int status = test::run_program(root.path(), "differential", scenario_program);
    Outcome o = std::move(g_outcome);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        o.failures.push_back("toy program ended with wait status " + std::to_string(status));
    return o;
}

}  // namespace

Outcome run_on_toyos(Scenario s) {
    switch (s) {
#define TOYOS_DIFF_CASE(name) \
    case Scenario::name:      \
        return run(&scenario_##name<ToyBackend>);
        TOYOS_DIFF_SCENARIOS(TOYOS_DIFF_CASE)
#undef TOYOS_DIFF_CASE
    }
    return {};
}

}  // namespace toyos::diff
