// Small built-ins: echo, true, false, sleep, kill, mkdir, rm.
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "toyos/io.h"
#include "toyos/program.h"

namespace {

using namespace toyos;

bool is_help(int argc, char** argv) {
    return argc >= 2 && std::strcmp(argv[1], "--help") == 0;
}

}  // namespace

TOYOS_PROGRAM(echo, "echo", "echo [ARG...]: print the arguments") {
    char line[4096];
    size_t n = 0;
    for (int i = 1; i < argc; ++i) {
        const size_t len = std::strlen(argv[i]);
        if (n + len + 2 > sizeof(line)) break;
        if (i > 1) line[n++] = ' ';
        std::memcpy(line + n, argv[i], len);
        n += len;
    }
    line[n++] = '\n';
    return io::write_all(1, line, n) < 0 ? 1 : 0;
}

TOYOS_PROGRAM(true_prog, "true", "true: exit 0") {
    (void)argc;
    (void)argv;
    return 0;
}

TOYOS_PROGRAM(false_prog, "false", "false: exit 1") {
    (void)argc;
    (void)argv;
    return 1;
}

TOYOS_PROGRAM(sleep_prog, "sleep", "sleep SECONDS: wait (fractions allowed)") {
    if (argc != 2 || is_help(argc, argv)) {
        io::puts(argc == 2 ? 1 : 2, "usage: sleep SECONDS\n");
        return argc == 2 ? 0 : 2;
    }
    char* end = nullptr;
    const double s = std::strtod(argv[1], &end);
    if (end == argv[1] || *end != '\0' || s < 0) {
        io::printf(2, "sleep: invalid time '%s'\n", argv[1]);
        return 2;
    }
    return sys::sleep_ns(static_cast<long>(s * 1e9)) == 0 ? 0 : 1;
}

TOYOS_PROGRAM(kill_prog, "kill", "kill [-SIG] PID...: end processes (default signal 15)") {
    if (argc < 2 || is_help(argc, argv)) {
        io::puts(argc < 2 ? 2 : 1, "usage: kill [-SIG] PID...\n");
        return argc < 2 ? 2 : 0;
    }
    int sig = 15, first = 1, status = 0;
    if (argv[1][0] == '-') {
        sig = std::atoi(argv[1] + 1);
        first = 2;
    }
    for (int i = first; i < argc; ++i) {
        const int r = sys::kill(std::atoi(argv[i]), sig);
        if (r < 0) {
            io::printf(2, "kill: %s: %s\n", argv[i], io::error_text(r));
            status = 1;
        }
    }
    return status;
}

TOYOS_PROGRAM(mkdir_prog, "mkdir", "mkdir [-p] DIR...: make directories") {
    if (argc < 2 || is_help(argc, argv)) {
        io::puts(argc < 2 ? 2 : 1, "usage: mkdir [-p] DIR...\n");
        return argc < 2 ? 2 : 0;
    }
    bool parents = false;
    int status = 0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "-p") == 0) {
            parents = true;
            continue;
        }
        char path[4096];
        const size_t len = std::strlen(argv[i]);
        if (len >= sizeof(path)) {
            io::printf(2, "mkdir: %s: %s\n", argv[i], io::error_text(-ENAMETOOLONG));
            status = 1;
            continue;
        }
        std::memcpy(path, argv[i], len + 1);
        if (parents) {
            // Each leading component in turn; existing ones are fine.
            for (size_t j = 1; j < len; ++j) {
                if (path[j] != '/') continue;
                path[j] = '\0';
                const int r = sys::mkdir(path, 0755);
                path[j] = '/';
                if (r < 0 && r != -EEXIST) break;
            }
        }
        const int r = sys::mkdir(path, 0755);
        if (r < 0 && !(parents && r == -EEXIST)) {
            io::printf(2, "mkdir: %s: %s\n", argv[i], io::error_text(r));
            status = 1;
        }
    }
    return status;
}

TOYOS_PROGRAM(rm_prog, "rm", "rm FILE...: remove files") {
    if (argc < 2 || is_help(argc, argv)) {
        io::puts(argc < 2 ? 2 : 1, "usage: rm FILE...\n");
        return argc < 2 ? 2 : 0;
    }
    int status = 0;
    for (int i = 1; i < argc; ++i) {
        const int r = sys::unlink(argv[i]);
        if (r < 0) {
            io::printf(2, "rm: %s: %s\n", argv[i], io::error_text(r));
            status = 1;
        }
    }
    return status;
}
