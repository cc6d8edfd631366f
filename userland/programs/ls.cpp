// ls [-l] [PATH...]: list directories (names sorted), or name files.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "toyos/arena.h"
#include "toyos/dirent.h"
#include "toyos/io.h"
#include "toyos/program.h"

namespace {

using namespace toyos;

const char* type_char(mode_t m) {
    if (S_ISDIR(m)) return "d";
    if (S_ISLNK(m)) return "l";
    if (S_ISSOCK(m)) return "s";
    return "-";
}

void print_entry(const char* dir, const char* name, bool long_format) {
    if (!long_format) {
        io::printf(1, "%s\n", name);
        return;
    }
    char path[4096];
    const int n = dir ? std::snprintf(path, sizeof(path), "%s/%s", dir, name)
                      : std::snprintf(path, sizeof(path), "%s", name);
    struct stat st {};
    if (n < 0 || static_cast<size_t>(n) >= sizeof(path) || sys::stat(path, &st) < 0) {
        io::printf(1, "?          ? %s\n", name);
        return;
    }
    io::printf(1, "%s%03o %10lld %s\n", type_char(st.st_mode), st.st_mode & 0777,
               static_cast<long long>(st.st_size), name);
}

int list(const char* path, bool long_format) {
    struct stat st {};
    if (int r = sys::stat(path, &st); r < 0) {
        io::printf(2, "ls: %s: %s\n", path, io::error_text(r));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        print_entry(nullptr, path, long_format);
        return 0;
    }
    const int fd = sys::open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        io::printf(2, "ls: %s: %s\n", path, io::error_text(fd));
        return 1;
    }
    Arena arena(1 << 20);
    const char* names[4096];
    size_t count = 0;
    char buf[8192];
    for (;;) {
        const ssize_t n = sys::getdents64(fd, buf, sizeof(buf));
        if (n < 0) {
            io::printf(2, "ls: %s: %s\n", path, io::error_text(n));
            sys::close(fd);
            return 1;
        }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            auto* d = reinterpret_cast<linux_dirent64*>(buf + off);
            off += d->d_reclen;
            if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0) continue;
            if (count < 4096) names[count++] = arena.strdup(d->d_name);
        }
    }
    sys::close(fd);
    std::sort(names, names + count,
              [](const char* a, const char* b) { return std::strcmp(a, b) < 0; });
    for (size_t i = 0; i < count; ++i)
        if (names[i]) print_entry(path, names[i], long_format);
    return 0;
}

}  // namespace

TOYOS_PROGRAM(ls, "ls", "ls [-l] [PATH...]: list directory contents") {
    bool long_format = false;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; ++first) {
        if (std::strcmp(argv[first], "--help") == 0) {
            io::puts(1, "usage: ls [-l] [PATH...]\n");
            return 0;
        }
        if (std::strcmp(argv[first], "-l") == 0)
            long_format = true;
        else
            return io::printf(2, "ls: unknown option %s\n", argv[first]), 2;
    }
    if (first == argc) return list("/", long_format);
    int status = 0;
    for (int i = first; i < argc; ++i) {
        if (argc - first > 1) io::printf(1, "%s:\n", argv[i]);
        status |= list(argv[i], long_format);
    }
    return status;
}
