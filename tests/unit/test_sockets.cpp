// Sockets: TCP and UDP on host sockets through the toy syscalls, and the errors bad socket
// arguments get. Each scenario is a toy program on a booted kernel; it returns 0 or the number
// of the first check that failed.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kernel/kernel.h"
#include "kernel/log.h"
#include "toyos/sys.h"

using namespace toyos;
namespace fs = std::filesystem;

namespace {

class SocketTest : public ::testing::Test {
  protected:
    void SetUp() override {
        kernel::init_logging(kernel::log_level_from_env("warn"));
        char tmpl[] = "/tmp/toyos-sock-XXXXXX";
        root_ = ::mkdtemp(tmpl);
        std::ofstream(root_ + "/f.txt") << "file";
    }
    void TearDown() override { fs::remove_all(root_); }

    int run(std::vector<std::pair<const char*, kernel::ProgramMain>> programs) {
        kernel::ProgramCatalog catalog;
        for (auto& [name, main] : programs) catalog.add_builtin(name, main, "");
        kernel::KernelConfig config;
        config.root = root_;
        auto k = kernel::Kernel::boot(config, std::move(catalog));
        if (k.is_error()) return -1;
        kernel_ = std::move(k.value());
        auto st = kernel_->run(programs[0].first, {programs[0].first});
        if (st.is_error()) return -st.error();
        return WIFEXITED(st.value()) ? WEXITSTATUS(st.value()) : 1000 + WTERMSIG(st.value());
    }

    std::string root_;
    std::unique_ptr<kernel::Kernel> kernel_;
};

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

sockaddr* sa(sockaddr_in* a) {
    return reinterpret_cast<sockaddr*>(a);
}

// The port a toy listener bound (port 0: the host picks), handed to the client process.
std::atomic<int> g_port{0};

int prog_tcp_server(int, char**) {
    const int fd = sys::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 1;
    const int one = 1;
    if (sys::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) return 2;
    sockaddr_in a = loopback(0);
    if (sys::bind(fd, sa(&a), sizeof(a)) != 0) return 3;
    sockaddr_in bound{};
    socklen_t len = sizeof(bound);
    if (sys::getsockname(fd, sa(&bound), &len) != 0 || len != sizeof(bound)) return 4;
    if (sys::listen(fd, 8) != 0) return 5;
    g_port = ntohs(bound.sin_port);
    sockaddr_in peer{};
    socklen_t plen = sizeof(peer);
    const int c = sys::accept(fd, sa(&peer), &plen);
    if (c < 0 || c == fd) return 6;
    if (plen != sizeof(peer) || peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) return 7;
    char buf[64] = {};
    size_t got = 0;
    while (got < 11) {
        const ssize_t n = sys::recv(c, buf + got, sizeof(buf) - got, 0);
        if (n <= 0) return 8;
        got += static_cast<size_t>(n);
    }
    if (std::memcmp(buf, "hello world", 11) != 0) return 9;
    if (sys::send(c, "HELLO WORLD", 11, 0) != 11) return 10;
    // The client closes: recv sees the end of the stream.
    if (sys::recv(c, buf, sizeof(buf), 0) != 0) return 11;
    sys::close(c);
    sys::close(fd);
    return 0;
}

int prog_tcp_client(int, char**) {
    while (g_port.load() == 0) sys::sleep_ns(1'000'000);
    const int fd = sys::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(static_cast<uint16_t>(g_port.load()));
    if (sys::connect(fd, sa(&a), sizeof(a)) != 0) return 21;
    const int one = 1;
    if (sys::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) return 22;
    if (sys::send(fd, "hello world", 11, 0) != 11) return 23;
    char buf[16] = {};
    size_t got = 0;
    while (got < 11) {
        const ssize_t n = sys::recv(fd, buf + got, sizeof(buf) - got, 0);
        if (n <= 0) return 24;
        got += static_cast<size_t>(n);
    }
    if (std::memcmp(buf, "HELLO WORLD", 11) != 0) return 25;
    return sys::close(fd) == 0 ? 0 : 26;
}

int prog_tcp_pair(int, char**) {
    g_port = 0;
    const char* sargv[] = {"server", nullptr};
    const char* cargv[] = {"client", nullptr};
    const pid_t s = sys::spawn("server", sargv);
    const pid_t c = sys::spawn("client", cargv);
    int sst = -1, cst = -1;
    if (sys::waitpid(c, &cst, 0) != c || sys::waitpid(s, &sst, 0) != s) return 100;
    if (!WIFEXITED(cst) || WEXITSTATUS(cst) != 0) return WEXITSTATUS(cst);
    if (!WIFEXITED(sst) || WEXITSTATUS(sst) != 0) return WEXITSTATUS(sst);
    return 0;
}

TEST_F(SocketTest, TcpConnectAcceptSendRecvAcrossProcesses) {
    EXPECT_EQ(
        run({{"pair", prog_tcp_pair}, {"server", prog_tcp_server}, {"client", prog_tcp_client}}),
        0);
}

int prog_udp(int, char**) {
    const int rx = sys::socket(AF_INET, SOCK_DGRAM, 0);
    const int tx = sys::socket(AF_INET, SOCK_DGRAM, 0);
    if (rx < 0 || tx < 0) return 1;
    sockaddr_in a = loopback(0);
    if (sys::bind(rx, sa(&a), sizeof(a)) != 0) return 2;
    sockaddr_in bound{};
    socklen_t len = sizeof(bound);
    if (sys::getsockname(rx, sa(&bound), &len) != 0) return 3;
    if (sys::sendto(tx, "datagram", 8, 0, sa(&bound), sizeof(bound)) != 8) return 4;
    char buf[32] = {};
    sockaddr_in from{};
    socklen_t flen = sizeof(from);
    if (sys::recvfrom(rx, buf, sizeof(buf), 0, sa(&from), &flen) != 8) return 5;
    if (std::memcmp(buf, "datagram", 8) != 0) return 6;
    if (flen != sizeof(from) || from.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) return 7;
    // The sender's address came back: answer it.
    if (sys::sendto(rx, "reply", 5, 0, sa(&from), flen) != 5) return 8;
    if (sys::recv(tx, buf, sizeof(buf), 0) != 5 || std::memcmp(buf, "reply", 5) != 0) return 9;
    // A short address length is truncated like Linux does, and the real length reported.
    if (sys::sendto(tx, "x", 1, 0, sa(&bound), sizeof(bound)) != 1) return 10;
    char small[4] = {};
    socklen_t slen = sizeof(small);
    if (sys::recvfrom(rx, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(small), &slen) != 1)
        return 11;
    if (slen != sizeof(sockaddr_in)) return 12;
    // A nonblocking receive on an empty socket does not wait.
    const int nb = sys::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (sys::bind(nb, sa(&a), sizeof(a)) != 0) return 13;
    if (sys::recv(nb, buf, sizeof(buf), 0) != -EAGAIN) return 14;
    return 0;
}

TEST_F(SocketTest, UdpSendtoRecvfromAndAddresses) {
    EXPECT_EQ(run({{"udp", prog_udp}}), 0);
}

int prog_bad_socket_args(int, char**) {
    const int file = sys::open("/f.txt", O_RDONLY);
    char buf[8];
    sockaddr_in a = loopback(0);
    if (sys::send(file, "x", 1, 0) != -ENOTSOCK) return 1;
    if (sys::listen(file, 1) != -ENOTSOCK) return 2;
    if (sys::accept(77, nullptr, nullptr) != -EBADF) return 3;
    if (sys::bind(file, sa(&a), sizeof(a)) != -ENOTSOCK) return 4;
    if (sys::socket(AF_UNIX, SOCK_STREAM, 0) != -EAFNOSUPPORT) return 5;  // would name host paths
    if (sys::socket(AF_INET, SOCK_RAW, 0) != -EINVAL) return 6;
    const int s = sys::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in unix_family = a;
    unix_family.sin_family = AF_UNIX;
    if (sys::bind(s, sa(&unix_family), sizeof(unix_family)) != -EAFNOSUPPORT) return 7;
    if (sys::bind(s, sa(&a), 1) != -EINVAL) return 8;  // shorter than a family
    // Pointers the process does not own.
    char* heap = new char[32];
    const int bad = sys::bind(s, reinterpret_cast<sockaddr*>(heap), sizeof(a));
    const int bad_opt = sys::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, heap, sizeof(int));
    delete[] heap;
    if (bad != -EFAULT) return 9;
    if (bad_opt != -EFAULT) return 10;
    if (sys::connect(s, reinterpret_cast<sockaddr*>(0x1000), sizeof(a)) != -EFAULT) return 11;
    // A receive into memory it does not own, on a socket with data ready, is EFAULT too.
    const int rx = sys::socket(AF_INET, SOCK_DGRAM, 0);
    sys::bind(rx, sa(&a), sizeof(a));
    sockaddr_in bound{};
    socklen_t len = sizeof(bound);
    sys::getsockname(rx, sa(&bound), &len);
    sys::sendto(rx, "z", 1, 0, sa(&bound), len);
    if (sys::recv(rx, reinterpret_cast<void*>(0x1000), 8, 0) != -EFAULT) return 12;
    // Connecting to a port nobody listens on is refused, and the kernel keeps serving us.
    const int c = sys::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in closed = loopback(1);
    if (sys::connect(c, sa(&closed), sizeof(closed)) != -ECONNREFUSED) return 13;
    if (sys::read(file, buf, 4) != 4) return 14;
    return 0;
}

TEST_F(SocketTest, BadArgumentsGetClearErrors) {
    EXPECT_EQ(run({{"bad", prog_bad_socket_args}}), 0);
}

}  // namespace
