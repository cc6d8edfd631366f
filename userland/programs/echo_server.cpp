// echo-server [--count N] PORT: a TCP echo server on 127.0.0.1:PORT driven entirely by the
// ring: one ACCEPT always armed, and per connection a RECV -> SEND -> RECV cycle, so any
// number of connections (up to kMaxConns) are served at once by one thread.
#include <cstring>

#include "toyos/io.h"
#include "toyos/liburing.h"
#include "toyos/net.h"
#include "toyos/program.h"

namespace {

using namespace toyos;

constexpr int kMaxConns = 256;
constexpr unsigned kBuf = 4096;
enum Op : uint64_t { kAccept = 1, kRecv = 2, kSend = 3, kClose = 4 };

struct Conn {
    int fd = -1;
    unsigned len = 0;   // bytes received, to echo
    unsigned sent = 0;  // of them, echoed so far
    char buf[kBuf];
};
Conn g_conns[kMaxConns];  // image memory: the kernel accepts it

uint64_t tag(Op op, int conn) {
    return (static_cast<uint64_t>(conn) << 8) | op;
}

}  // namespace

TOYOS_PROGRAM(echo_server, "echo-server",
              "echo-server [--count N] PORT: ring-driven TCP echo server on 127.0.0.1") {
    long count = -1;
    const char* port_arg = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--help") == 0) {
            io::puts(1,
                     "usage: echo-server [--count N] PORT\n"
                     "  echoes every byte back; with --count, exits after N connections\n");
            return 0;
        }
        if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = std::atol(argv[++i]);
        else
            port_arg = argv[i];
    }
    const int port = port_arg ? net::parse_port(port_arg) : -1;
    if (port < 0) {
        io::puts(2, "usage: echo-server [--count N] PORT\n");
        return 2;
    }
    const int lfd = sys::socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) return io::printf(2, "echo-server: socket: %s\n", io::error_text(lfd)), 1;
    const int one = 1;
    sys::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (int r = sys::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)); r < 0)
        return io::printf(2, "echo-server: bind %d: %s\n", port, io::error_text(r)), 1;
    if (int r = sys::listen(lfd, 128); r < 0)
        return io::printf(2, "echo-server: listen: %s\n", io::error_text(r)), 1;

    io_uring ring;
    if (int r = io_uring_queue_init(256, &ring, 0); r < 0)
        return io::printf(2, "echo-server: io_uring: %s\n", io::error_text(r)), 1;
    auto sqe_or_flush = [&]() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        while (sqe == nullptr) {
            io_uring_submit(&ring);
            sqe = io_uring_get_sqe(&ring);
        }
        return sqe;
    };
    auto arm_recv = [&](int c) {
        io_uring_sqe* sqe = sqe_or_flush();
        io_uring_prep_recv(sqe, g_conns[c].fd, g_conns[c].buf, kBuf, 0);
        io_uring_sqe_set_data64(sqe, tag(kRecv, c));
    };
    auto arm_send = [&](int c) {
        Conn& k = g_conns[c];
        io_uring_sqe* sqe = sqe_or_flush();
        io_uring_prep_send(sqe, k.fd, k.buf + k.sent, k.len - k.sent, 0);
        io_uring_sqe_set_data64(sqe, tag(kSend, c));
    };
    auto arm_close = [&](int c) {
        io_uring_sqe* sqe = sqe_or_flush();
        io_uring_prep_close(sqe, g_conns[c].fd);
        io_uring_sqe_set_data64(sqe, tag(kClose, c));
    };
    bool accepting = true;
    auto arm_accept = [&]() {
        io_uring_sqe* sqe = sqe_or_flush();
        io_uring_prep_accept(sqe, lfd, nullptr, nullptr, 0);
        io_uring_sqe_set_data64(sqe, tag(kAccept, 0));
    };
    arm_accept();
    long accepted = 0, served = 0;
    int open_conns = 0;
    while (accepting || open_conns > 0) {
        int r = io_uring_submit_and_wait(&ring, 1);
        if (r < 0 && r != -EBUSY && r != -EINTR)
            return io::printf(2, "echo-server: submit: %s\n", io::error_text(r)), 1;
        io_uring_cqe* cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            ++seen;
            const Op op = static_cast<Op>(cqe->user_data & 0xff);
            const int c = static_cast<int>(cqe->user_data >> 8);
            const int res = cqe->res;
            switch (op) {
                case kAccept: {
                    if (res < 0) {
                        io::printf(2, "echo-server: accept: %s\n", io::error_text(res));
                        accepting = false;
                        break;
                    }
                    int slot = -1;
                    for (int i = 0; i < kMaxConns; ++i)
                        if (g_conns[i].fd < 0) {
                            slot = i;
                            break;
                        }
                    if (slot < 0) {
                        sys::close(res);  // full: refuse this one
                    } else {
                        g_conns[slot].fd = res;
                        ++open_conns;
                        arm_recv(slot);
                    }
                    ++accepted;
                    accepting = count < 0 || accepted < count;
                    if (accepting) arm_accept();
                    break;
                }
                case kRecv:
                    if (res <= 0) {
                        arm_close(c);  // peer closed (or failed): done with it
                    } else {
                        g_conns[c].len = static_cast<unsigned>(res);
                        g_conns[c].sent = 0;
                        arm_send(c);
                    }
                    break;
                case kSend:
                    if (res < 0) {
                        arm_close(c);
                    } else {
                        g_conns[c].sent += static_cast<unsigned>(res);
                        if (g_conns[c].sent < g_conns[c].len)
                            arm_send(c);
                        else
                            arm_recv(c);
                    }
                    break;
                case kClose:
                    g_conns[c].fd = -1;
                    --open_conns;
                    ++served;
                    break;
            }
        }
        io_uring_cq_advance(&ring, seen);
    }
    io_uring_queue_exit(&ring);
    sys::close(lfd);
    return 0;
}
