// ringstat [-n COUNT] [-d SECONDS]: the counters of every ring, refreshed like top. Reads
// /proc/iouring for the totals and /proc/<pid>/iouring for each process's rings, with
// ordinary read syscalls, and shows rates from one refresh to the next.
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "toyos/dirent.h"
#include "toyos/io.h"
#include "toyos/program.h"
#include "toyos/sys.h"

namespace {

using namespace toyos;

char g_buf[1 << 18];  // image memory: the kernel may write here

// The whole text of a /proc file ("" if it cannot be read).
std::string slurp(const char* path) {
    const int fd = sys::open(path, O_RDONLY);
    if (fd < 0) return {};
    std::string text;
    for (;;) {
        const ssize_t n = sys::read(fd, g_buf, sizeof(g_buf));
        if (n <= 0) break;
        text.append(g_buf, static_cast<size_t>(n));
    }
    sys::close(fd);
    return text;
}

// "Key:\tvalue" lines into blocks; a blank line starts a new block (one per ring).
std::vector<std::map<std::string, std::string>> parse_blocks(const std::string& text) {
    std::vector<std::map<std::string, std::string>> blocks(1);
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.empty()) {
            if (!blocks.back().empty()) blocks.emplace_back();
            continue;
        }
        const size_t colon = line.find(":\t");
        if (colon != std::string::npos)
            blocks.back()[line.substr(0, colon)] = line.substr(colon + 2);
    }
    if (blocks.back().empty()) blocks.pop_back();
    return blocks;
}

unsigned long long num(const std::map<std::string, std::string>& m, const char* key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
}

std::vector<int> pids() {
    std::vector<int> out;
    const int fd = sys::open("/proc", O_RDONLY | O_DIRECTORY);
    if (fd < 0) return out;
    for (;;) {
        const long n = sys::getdents64(fd, g_buf, sizeof(g_buf));
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            const auto* d = reinterpret_cast<const linux_dirent64*>(g_buf + off);
            if (d->d_name[0] >= '1' && d->d_name[0] <= '9') out.push_back(std::atoi(d->d_name));
            off += d->d_reclen;
        }
    }
    sys::close(fd);
    return out;
}

int usage(int code) {
    io::puts(
        code == 0 ? 1 : 2,
        "usage: ringstat [-n COUNT] [-d SECONDS]\n"
        "  the io_uring counters of every ring, refreshed every SECONDS (default 1),\n"
        "  COUNT times (default: until killed); reads /proc/iouring and /proc/<pid>/iouring\n");
    return code;
}

}  // namespace

TOYOS_PROGRAM(ringstat, "ringstat", "ringstat [-n COUNT] [-d SECONDS]: ring counters, like top") {
    long count = -1;
    double delay = 1.0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return usage(0);
        if (std::strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            count = std::atol(argv[++i]);
        else if (std::strcmp(argv[i], "-d") == 0 && i + 1 < argc)
            delay = std::atof(argv[++i]);
        else
            return usage(2);
    }
    if (delay <= 0) return usage(2);
    const int self = sys::getpid();
    // Previous submitted count per (pid, ring), for the rate column.
    std::map<std::pair<int, unsigned long long>, unsigned long long> last;
    for (long iter = 0; count < 0 || iter < count; ++iter) {
        if (iter > 0 && sys::sleep_ns(static_cast<long>(delay * 1e9)) < 0) break;
        const auto global = parse_blocks(slurp("/proc/iouring"));
        if (global.empty()) {
            io::puts(2, "ringstat: cannot read /proc/iouring\n");
            return 1;
        }
        const auto& g = global[0];
        io::printf(1,
                   "rings=%llu submitted=%llu completed=%llu pending=%llu overflowed=%llu "
                   "cancelled=%llu toy_enters=%llu host_enters=%llu executor=%s\n",
                   num(g, "ActiveRings"), num(g, "TotalSubmissions"), num(g, "TotalCompletions"),
                   num(g, "Pending"), num(g, "Overflowed"), num(g, "Cancelled"),
                   num(g, "ToyEnters"), num(g, "HostEnters"),
                   g.count("Executor") ? g.at("Executor").c_str() : "?");
        io::printf(1, "%6s %-12s %4s %4s %10s %10s %8s %8s %10s %10s\n", "PID", "NAME", "RING",
                   "FD", "SUBMITTED", "COMPLETED", "PENDING", "OVERFLOW", "ENTERS", "OPS/S");
        for (int pid : pids()) {
            if (pid == self) continue;
            char path[64];
            std::snprintf(path, sizeof(path), "/proc/%d/status", pid);
            const auto status = parse_blocks(slurp(path));
            const std::string name =
                !status.empty() && status[0].count("Name") ? status[0].at("Name") : "?";
            std::snprintf(path, sizeof(path), "/proc/%d/iouring", pid);
            for (const auto& r : parse_blocks(slurp(path))) {
                const unsigned long long ring = num(r, "Ring"), sub = num(r, "Submitted");
                auto key = std::make_pair(pid, ring);
                const double rate =
                    last.count(key) ? static_cast<double>(sub - last[key]) / delay : 0;
                last[key] = sub;
                io::printf(1, "%6d %-12s %4llu %4s %10llu %10llu %8llu %8llu %10llu %10.0f\n", pid,
                           name.c_str(), ring, r.count("Fd") ? r.at("Fd").c_str() : "?", sub,
                           num(r, "Completed"), num(r, "Pending"), num(r, "Overflow"),
                           num(r, "Enters"), rate);
            }
        }
        io::puts(1, "\n");
    }
    return 0;
}
