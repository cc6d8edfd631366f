// Helpers for the toy programs the ring tests run (userland side): a check that ends the
// program with status 1 and says where, the exit code of a wait status, a loopback TCP pair,
// a key of a /proc file.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

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

// The value of a "Key:\tvalue" line of a /proc file (read through the kernel, by this toy
// process): a number, 1/0 for "yes"/"no", -1 if the file or the key is not there. With
// `text_out`, the value's text too.
inline long long proc_key(const char* path, const char* key, char* text_out = nullptr,
                          size_t text_len = 0) {
    using namespace toyos;
    char buf[16384];
    const int fd = sys::open(path, O_RDONLY);
    if (fd < 0) return -1;
    const ssize_t n = sys::read(fd, buf + 1, sizeof(buf) - 2);
    sys::close(fd);
    if (n <= 0) return -1;
    buf[0] = '\n';  // so that the first line matches "\nKey:\t" too
    buf[n + 1] = '\0';
    char want[64];
    std::snprintf(want, sizeof(want), "\n%s:\t", key);
    const char* at = std::strstr(buf, want);
    if (at == nullptr) return -1;
    at += std::strlen(want);
    if (text_out != nullptr) {
        size_t i = 0;
        for (; at[i] != '\n' && at[i] != '\0' && i + 1 < text_len; ++i) text_out[i] = at[i];
        text_out[i] = '\0';
    }
    if (std::strncmp(at, "yes", 3) == 0) return 1;
    if (std::strncmp(at, "no", 2) == 0) return 0;
    return std::strtoll(at, nullptr, 10);
}

inline long long proc_iouring(const char* key, char* text_out = nullptr, size_t text_len = 0) {
    return proc_key("/proc/iouring", key, text_out, text_len);
}
inline long long self_status(const char* key) {
    return proc_key("/proc/self/status", key);
}
