// echo-client HOST PORT MESSAGE...: connect, send MESSAGE, read the echo back, all through
// the ring. The server may still be starting: a refused connect is retried for ~5 s.
#include <cstring>

#include "toyos/io.h"
#include "toyos/liburing.h"
#include "toyos/net.h"
#include "toyos/program.h"

namespace {

using namespace toyos;

int ring_op(io_uring* ring) {
    io_uring_cqe* cqe;
    int r = io_uring_submit_and_wait(ring, 1);
    if (r < 0) return r;
    r = io_uring_wait_cqe(ring, &cqe);
    if (r < 0) return r;
    const int res = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    return res;
}

}  // namespace

TOYOS_PROGRAM(echo_client, "echo-client",
              "echo-client HOST PORT MESSAGE...: send MESSAGE to an echo server, print the echo") {
    if (argc >= 2 && std::strcmp(argv[1], "--help") == 0) {
        io::puts(1, "usage: echo-client HOST PORT MESSAGE...\n");
        return 0;
    }
    if (argc < 4) {
        io::puts(2, "usage: echo-client HOST PORT MESSAGE...\n");
        return 2;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    const int port = net::parse_port(argv[2]);
    if (!net::parse_ipv4(argv[1], &addr.sin_addr) || port < 0) {
        io::printf(2, "echo-client: bad address %s:%s\n", argv[1], argv[2]);
        return 2;
    }
    addr.sin_port = htons(static_cast<uint16_t>(port));
    char msg[4096];
    size_t len = 0;
    for (int i = 3; i < argc; ++i) {
        const size_t n = std::strlen(argv[i]);
        if (len + n + 1 >= sizeof(msg)) break;
        if (i > 3) msg[len++] = ' ';
        std::memcpy(msg + len, argv[i], n);
        len += n;
    }

    io_uring ring;
    if (int r = io_uring_queue_init(4, &ring, 0); r < 0)
        return io::printf(2, "echo-client: io_uring: %s\n", io::error_text(r)), 1;
    int fd = -1, r = -ECONNREFUSED;
    for (int attempt = 0; attempt < 100 && r == -ECONNREFUSED; ++attempt) {
        if (fd >= 0) sys::close(fd);
        fd = sys::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return io::printf(2, "echo-client: socket: %s\n", io::error_text(fd)), 1;
        io_uring_prep_connect(io_uring_get_sqe(&ring), fd, reinterpret_cast<sockaddr*>(&addr),
                              sizeof(addr));
        r = ring_op(&ring);
        if (r == -ECONNREFUSED) sys::sleep_ns(50'000'000);
    }
    if (r < 0) return io::printf(2, "echo-client: connect: %s\n", io::error_text(r)), 1;
    for (size_t sent = 0; sent < len;) {
        io_uring_prep_send(io_uring_get_sqe(&ring), fd, msg + sent, len - sent, 0);
        r = ring_op(&ring);
        if (r < 0) return io::printf(2, "echo-client: send: %s\n", io::error_text(r)), 1;
        sent += static_cast<size_t>(r);
    }
    char back[4096];
    size_t got = 0;
    while (got < len) {
        io_uring_prep_recv(io_uring_get_sqe(&ring), fd, back + got, len - got, 0);
        r = ring_op(&ring);
        if (r < 0) return io::printf(2, "echo-client: recv: %s\n", io::error_text(r)), 1;
        if (r == 0) break;
        got += static_cast<size_t>(r);
    }
    io_uring_queue_exit(&ring);
    sys::close(fd);
    back[got] = '\n';
    io::write_all(1, back, got + 1);
    if (got != len || std::memcmp(back, msg, len) != 0) {
        io::puts(2, "echo-client: the echo differs from what was sent\n");
        return 1;
    }
    return 0;
}
