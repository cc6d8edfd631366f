#include "proc_counters.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "toyos/io.h"
#include "toyos/sys.h"

namespace toyos::devtest {

bool ProcCounters::load(const char* path) {
    begin_ = end_ = buf_;
    const int fd = sys::open(path, O_RDONLY);
    if (fd < 0) return false;
    size_t used = 0;
    for (;;) {
        const ssize_t n = sys::read(fd, buf_ + used, sizeof(buf_) - 1 - used);
        if (n <= 0) break;
        used += static_cast<size_t>(n);
        if (used == sizeof(buf_) - 1) break;
    }
    sys::close(fd);
    buf_[used] = '\0';
    end_ = buf_ + used;
    return used > 0;
}

bool ProcCounters::read_global() {
    return load("/proc/iouring");
}

bool ProcCounters::read_ring(int ring_fd) {
    if (!load("/proc/self/iouring")) return false;
    // Blocks are separated by a blank line; each has "Fd:\tN".
    char want[32];
    const int n = std::snprintf(want, sizeof(want), "\nFd:\t%d\n", ring_fd);
    const char* at = std::strstr(buf_, want);
    if (n <= 0 || at == nullptr) return false;
    const char* start = buf_;  // just after the last blank line before `at`
    for (const char* p = std::strstr(buf_, "\n\n"); p != nullptr && p < at;
         p = std::strstr(p + 1, "\n\n"))
        start = p + 2;
    const char* stop = std::strstr(at, "\n\n");
    begin_ = start;
    end_ = stop != nullptr ? stop + 1 : buf_ + std::strlen(buf_);
    return true;
}

const char* ProcCounters::find(const char* key) const {
    const size_t klen = std::strlen(key);
    for (const char* line = begin_; line < end_;) {
        const char* nl = static_cast<const char*>(std::memchr(line, '\n', end_ - line));
        const char* line_end = nl != nullptr ? nl : end_;
        if (static_cast<size_t>(line_end - line) > klen + 1 && std::strncmp(line, key, klen) == 0 &&
            line[klen] == ':' && line[klen + 1] == '\t')
            return line + klen + 2;
        line = line_end + 1;
    }
    return nullptr;
}

uint64_t ProcCounters::number(const char* key) const {
    const char* v = find(key);
    return v != nullptr ? std::strtoull(v, nullptr, 10) : 0;
}

const char* ProcCounters::text(const char* key) const {
    const char* v = find(key);
    size_t n = 0;
    if (v != nullptr)
        while (v + n < end_ && v[n] != '\n' && n + 1 < sizeof(value_)) ++n;
    if (n > 0) std::memcpy(value_, v, n);
    value_[n] = '\0';
    return value_;
}

void print_proc_iouring() {
    static char buf[32768];
    const int fd = sys::open("/proc/iouring", O_RDONLY);
    io::puts(1, "---- begin /proc/iouring ----\n");
    if (fd < 0) {
        io::printf(1, "(cannot open /proc/iouring: %s)\n", io::error_text(fd));
    } else {
        for (;;) {
            const ssize_t n = sys::read(fd, buf, sizeof(buf));
            if (n <= 0) break;
            io::write_all(1, buf, static_cast<size_t>(n));
        }
        sys::close(fd);
    }
    io::puts(1, "---- end /proc/iouring ----\n");
}

}  // namespace toyos::devtest
