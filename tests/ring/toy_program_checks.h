// Helpers for the toy programs the ring tests run (userland side): a check that ends the
// program with status 1 and says where, the exit code of a wait status, a loopback TCP pair.
#pragma once

#include <netinet/in.h>
#include <sys/wait.h>

#include "toyos/io.h"
#include "toyos/sys.h"

#define T_CHECK(cond)                                                                       \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            toyos::io::printf(2, "check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                                       \
        }                                                                                   \
    } while (0)

inline int exit_code(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A connected loopback TCP pair: *server_conn (accepted) and *client. 0, or a negative step.
inline int make_tcp_pair(int* server_conn, int* client) {
    using namespace toyos;
    int lfd = sys::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sys::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) return -1;
    socklen_t len = sizeof(addr);
    sys::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
    sys::listen(lfd, 4);
    *client = sys::socket(AF_INET, SOCK_STREAM, 0);
    if (sys::connect(*client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) return -2;
    *server_conn = sys::accept(lfd, nullptr, nullptr);
    sys::close(lfd);
    return *server_conn >= 0 ? 0 : -3;
}
