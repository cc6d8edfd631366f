#include "toyos/io.h"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>

namespace toyos::io {

ssize_t write_all(int fd, const void* buf, size_t count) {
    const char* p = static_cast<const char*>(buf);
    size_t done = 0;
    while (done < count) {
        ssize_t n = sys::write(fd, p + done, count - done);
        if (n < 0) return n;
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(done);
}

ssize_t puts(int fd, const char* s) {
    return write_all(fd, s, std::strlen(s));
}

ssize_t printf(int fd, const char* fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) return -EINVAL;
    return write_all(fd, buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
}

const char* error_text(long negative_errno) {
    return strerrordesc_np(static_cast<int>(-negative_errno));
}

}  // namespace toyos::io
