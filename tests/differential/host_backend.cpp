// The host side of the differential tests: the scenarios on the host kernel's io_uring
// through the system liburing, with host fds in a temporary directory and host sockets.
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "liburing_api.h"
#include "runners.h"
#include "scenarios.h"

namespace toyos::diff {
namespace {

class HostBackend {
  public:
    using Ring = ::io_uring;
#define TOYOS_DIFF_HOST_FORWARD(name) TOYOS_DIFF_FORWARD(, name)
    TOYOS_DIFF_LIBURING_API(TOYOS_DIFF_HOST_FORWARD)
#undef TOYOS_DIFF_HOST_FORWARD

    Ring ring{};

    HostBackend() {
        char tmpl[] = "/tmp/toyos-diff-XXXXXX";
        if (::mkdtemp(tmpl) != nullptr) dir_ = tmpl;
        dir_fd_ = ::open(dir_.c_str(), O_DIRECTORY | O_RDONLY);
        init_ = ::io_uring_queue_init(16, &ring, 0);
    }
    ~HostBackend() {
        if (init_ == 0) ::io_uring_queue_exit(&ring);
        if (dir_fd_ >= 0) ::close(dir_fd_);
        std::error_code ec;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    }
    HostBackend(const HostBackend&) = delete;
    HostBackend& operator=(const HostBackend&) = delete;

    // 0, or why the backend could not start.
    std::string setup_error() const {
        if (dir_fd_ < 0) return "no temporary directory";
        if (init_ < 0) return "io_uring_queue_init: " + std::to_string(init_);
        return "";
    }

    // io_uring_enter(GETEVENTS | EXT_ARG) with a timeout and nothing to submit: res or -errno.
    int enter_getevents(unsigned min_complete, const __kernel_timespec* ts) {
        io_uring_getevents_arg arg{};
        arg.ts = reinterpret_cast<uint64_t>(ts);
        const long r = ::syscall(__NR_io_uring_enter, ring.ring_fd, 0, min_complete,
                                 IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
        return r < 0 ? -errno : static_cast<int>(r);
    }

    // IORING_REGISTER_ENABLE_RINGS (Debian's liburing 2.3 declares io_uring_enable_rings but
    // does not export it): res or -errno.
    int enable_rings(Ring* r) {
        const long res = ::syscall(__NR_io_uring_register, r->ring_fd,
                                   IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
        return res < 0 ? -errno : static_cast<int>(res);
    }

    // io_uring_enter(fd, 0, 0, flags) as it is: res or -errno.
    int enter_raw(unsigned fd, unsigned flags) {
        const long r = ::syscall(__NR_io_uring_enter, fd, 0, 0, flags, nullptr, 0);
        return r < 0 ? -errno : static_cast<int>(r);
    }

    int dir_fd() const {
        return dir_fd_;
    }
    int create_file(const char* name, const char* content) {
        const int fd = ::openat(dir_fd_, name, O_CREAT | O_RDWR | O_TRUNC, 0644);
        if (fd < 0) return -errno;
        const size_t n = std::strlen(content);
        if (::write(fd, content, n) != static_cast<ssize_t>(n)) return -EIO;
        return fd;
    }
    int open_file(const char* name, int flags) {
        const int fd = ::openat(dir_fd_, name, flags);
        return fd < 0 ? -errno : fd;
    }
    std::string file_content(const char* name) {
        const int fd = ::openat(dir_fd_, name, O_RDONLY);
        if (fd < 0) return "<open: " + std::to_string(errno) + ">";
        std::string out;
        char buf[256];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
        ::close(fd);
        return out;
    }
    int tcp_socket() {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        return fd < 0 ? -errno : fd;
    }
    int tcp_listener(sockaddr_in* addr) {
        const int fd = tcp_socket();
        if (fd < 0) return fd;
        *addr = sockaddr_in{};
        addr->sin_family = AF_INET;
        addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(*addr);
        if (::bind(fd, reinterpret_cast<sockaddr*>(addr), sizeof(*addr)) < 0 ||
            ::listen(fd, 4) < 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(addr), &len) < 0) {
            const int e = errno;
            ::close(fd);
            return -e;
        }
        return fd;
    }
    int tcp_pair(int* server, int* client) {
        sockaddr_in addr{};
        const int lfd = tcp_listener(&addr);
        if (lfd < 0) return lfd;
        *client = tcp_socket();
        int r = ::connect(*client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
        *server = ::accept(lfd, nullptr, nullptr);
        ::close(lfd);
        return r < 0 || *server < 0 ? -EIO : 0;
    }
    // A TCP socket bound to a loopback port but not listening: a connect to `addr` is
    // refused, and no other test can take the port meanwhile.
    int bound_socket(sockaddr_in* addr) {
        const int fd = tcp_socket();
        if (fd < 0) return fd;
        *addr = sockaddr_in{};
        addr->sin_family = AF_INET;
        addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(*addr);
        if (::bind(fd, reinterpret_cast<sockaddr*>(addr), sizeof(*addr)) < 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(addr), &len) < 0) {
            const int e = errno;
            ::close(fd);
            return -e;
        }
        return fd;
    }
    // The fd calls as they are: res or -errno.
    int dup(int fd) {
        return neg(::dup(fd));
    }
    int dup2(int fd, int target) {
        return neg(::dup2(fd, target));
    }
    int dup3(int fd, int target, int flags) {
        return neg(::dup3(fd, target, flags));
    }
    int fcntl(int fd, int cmd, long arg = 0) {
        return neg(::fcntl(fd, cmd, arg));
    }
    // An absolute path (a device): res or -errno.
    int open_path(const char* path, int flags) {
        return neg(::open(path, flags, 0644));
    }
    // fstat's st_mode and st_rdev, or -errno.
    long long fstat_mode(int fd) {
        struct stat st {};
        return ::fstat(fd, &st) < 0 ? -errno : static_cast<long long>(st.st_mode);
    }
    long long fstat_rdev(int fd) {
        struct stat st {};
        return ::fstat(fd, &st) < 0 ? -errno : static_cast<long long>(st.st_rdev);
    }
    static int neg(int r) {
        return r < 0 ? -errno : r;
    }

    int connect(int fd, const sockaddr_in* addr) {
        return ::connect(fd, reinterpret_cast<const sockaddr*>(addr), sizeof(*addr)) < 0 ? -errno
                                                                                         : 0;
    }
    long send(int fd, const void* buf, size_t len) {
        const ssize_t n = ::send(fd, buf, len, 0);
        return n < 0 ? -errno : n;
    }
    int close(int fd) {
        return ::close(fd) < 0 ? -errno : 0;
    }

  private:
    std::string dir_;
    int dir_fd_ = -1;
    int init_ = -1;
};

template <class Fn>
Outcome run(Fn scenario) {
    HostBackend b;
    if (std::string e = b.setup_error(); !e.empty()) {
        Outcome o;
        o.failures.push_back("host backend: " + e);
        return o;
    }
    return scenario(b);
}

}  // namespace

Outcome run_on_host(Scenario s) {
    switch (s) {
#define TOYOS_DIFF_CASE(name) \
    case Scenario::name:      \
        return run([](HostBackend& b) { return scenario_##name(b); });
        TOYOS_DIFF_SCENARIOS(TOYOS_DIFF_CASE)
#undef TOYOS_DIFF_CASE
    }
    return {};
}

std::optional<int> host_lacks(const std::vector<int>& opcodes) {
    io_uring_probe* probe = ::io_uring_get_probe();
    if (probe == nullptr) return opcodes.empty() ? std::nullopt : std::optional<int>(opcodes[0]);
    std::optional<int> missing;
    for (int op : opcodes)
        if (!::io_uring_opcode_supported(probe, op)) {
            missing = op;
            break;
        }
    ::io_uring_free_probe(probe);
    return missing;
}

}  // namespace toyos::diff
