// wal: a write-ahead log on the ring, after seed 001. Records are appended into registered
// buffers (a pool with acquire and release); every --batch records are one group commit: a
// WRITE_FIXED of the batch linked to an FSYNC(DATASYNC). With --sqpoll the kernel's poller
// takes the SQEs, so an append makes no syscall at all.
//
// It reports two latencies: append (the call that hands a record to the log: copy into the
// registered buffer, and at a batch boundary the SQEs; seed 001's figure) and commit (append
// to the fdatasync that made it durable), plus commits and records per second. --verify
// reads the log back and checks every record.
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "toyos/io.h"
#include "toyos/liburing.h"
#include "toyos/program.h"
#include "toyos/sys.h"

namespace {

using namespace toyos;

struct Options {
    long records = 100000;
    unsigned record_size = 128;
    unsigned batch = 64;
    unsigned buffers = 16;  // registered batch buffers in the pool
    bool sqpoll = false;
    bool verify = false;
    bool json = false;
    const char* filename = "/wal.log";
};

// Each record starts with its number and a checksum of the rest, so --verify can check it.
struct RecordHeader {
    uint64_t seq;
    uint32_t sum;
    uint32_t len;
};

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint32_t checksum(const unsigned char* p, size_t n) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
    return h;
}

void fill_record(unsigned char* dst, uint64_t seq, unsigned size) {
    auto* payload = dst + sizeof(RecordHeader);
    const size_t n = size - sizeof(RecordHeader);
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<unsigned char>(seq * 31 + i);
    RecordHeader h{seq, checksum(payload, n), size};
    std::memcpy(dst, &h, sizeof(h));
}

uint64_t percentile(std::vector<uint64_t>& v, double q) {
    if (v.empty()) return 0;
    const size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
    return v[k];
}

// A counter of /proc/iouring (-1 if unreadable).
long long proc_counter(const char* key) {
    static char text[8192];
    const int fd = sys::open("/proc/iouring", O_RDONLY);
    if (fd < 0) return -1;
    const ssize_t n = sys::read(fd, text, sizeof(text) - 1);
    sys::close(fd);
    if (n <= 0) return -1;
    text[n] = '\0';
    char k[64];
    std::snprintf(k, sizeof(k), "%s:\t", key);
    const char* at = std::strstr(text, k);
    return at == nullptr ? -1 : std::atoll(at + std::strlen(k));
}

int usage(int code) {
    io::puts(code == 0 ? 1 : 2,
             "usage: wal [--records N] [--record-size B] [--batch K] [--buffers N] [--sqpoll]\n"
             "           [--verify] [--filename PATH] [--output-format=normal|json]\n"
             "  appends N records of B bytes (default 100000 x 128) to PATH (default /wal.log)\n"
             "  through the ring; every K records (default 64) are one group commit: a\n"
             "  WRITE_FIXED from a registered buffer linked to FSYNC(DATASYNC). Reports append\n"
             "  and commit latency p50/p99 and commits per second.\n");
    return code;
}

bool parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i], v;
        const size_t eq = a.find('=');
        if (eq != std::string::npos) {
            v = a.substr(eq + 1);
            a = a.substr(0, eq);
        }
        auto value = [&]() -> const char* {
            if (eq != std::string::npos) return argv[i] + eq + 1;
            return i + 1 < argc ? argv[++i] : nullptr;
        };
        if (a == "--sqpoll")
            o.sqpoll = true;
        else if (a == "--verify")
            o.verify = true;
        else if (a == "--records") {
            const char* s = value();
            if (!s) return false;
            o.records = std::atol(s);
        } else if (a == "--record-size") {
            const char* s = value();
            if (!s) return false;
            o.record_size = static_cast<unsigned>(std::atol(s));
        } else if (a == "--batch") {
            const char* s = value();
            if (!s) return false;
            o.batch = static_cast<unsigned>(std::atol(s));
        } else if (a == "--buffers") {
            const char* s = value();
            if (!s) return false;
            o.buffers = static_cast<unsigned>(std::atol(s));
        } else if (a == "--filename") {
            const char* s = value();
            if (!s) return false;
            o.filename = s;
        } else if (a == "--output-format") {
            const char* s = value();
            if (!s) return false;
            o.json = std::strcmp(s, "json") == 0;
        } else
            return false;
    }
    return o.records > 0 && o.record_size >= sizeof(RecordHeader) && o.record_size <= (1u << 20) &&
           o.batch > 0 && o.buffers >= 2 && o.buffers <= 1024 &&
           static_cast<uint64_t>(o.batch) * o.record_size <= (64u << 20);
}

int verify(const Options& o) {
    const int fd = sys::open(o.filename, O_RDONLY);
    if (fd < 0) return fd;
    void* mem = sys::mmap(nullptr, o.record_size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return -sys::last_mmap_error();
    auto* rec = static_cast<unsigned char*>(mem);
    for (long i = 0; i < o.records; ++i) {
        const ssize_t n = sys::pread(fd, rec, o.record_size, static_cast<off_t>(i) * o.record_size);
        RecordHeader h{};
        std::memcpy(&h, rec, sizeof(h));
        if (n != static_cast<ssize_t>(o.record_size) || h.seq != static_cast<uint64_t>(i) ||
            h.len != o.record_size ||
            h.sum != checksum(rec + sizeof(h), o.record_size - sizeof(h))) {
            io::printf(2, "wal: record %ld is damaged\n", i);
            return -EIO;
        }
    }
    sys::munmap(mem, o.record_size);
    sys::close(fd);
    return 0;
}

}  // namespace

TOYOS_PROGRAM(wal, "wal",
              "wal [--records N] [--batch K] [--sqpoll]: group-commit log on the ring") {
    Options o;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--help") == 0) return usage(0);
    if (!parse(argc, argv, o)) return usage(2);

    const int fd = sys::open(o.filename, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        io::printf(2, "wal: %s: %s\n", o.filename, io::error_text(fd));
        return 1;
    }
    io_uring ring;
    io_uring_params p{};
    if (o.sqpoll) {
        p.flags = IORING_SETUP_SQPOLL;
        p.sq_thread_idle = 2000;
    }
    if (int r = io_uring_queue_init_params(4 * o.buffers, &ring, &p); r < 0) {
        io::printf(2, "wal: io_uring_setup: %s\n", io::error_text(r));
        return 1;
    }
    // The registered buffer pool: one buffer per batch in flight.
    const size_t buf_len = static_cast<size_t>(o.batch) * o.record_size;
    void* mem = sys::mmap(nullptr, buf_len * o.buffers, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return 1;
    auto* pool = static_cast<unsigned char*>(mem);
    static iovec iov[1024];
    for (unsigned i = 0; i < o.buffers; ++i) iov[i] = {pool + i * buf_len, buf_len};
    if (int r = io_uring_register_buffers(&ring, iov, o.buffers); r < 0) {
        io::printf(2, "wal: register buffers: %s\n", io::error_text(r));
        return 1;
    }
    std::vector<unsigned> free_bufs;
    for (unsigned i = o.buffers; i > 0; --i) free_bufs.push_back(i - 1);
    std::vector<uint64_t> batch_first_seq(o.buffers), batch_count(o.buffers);

    std::vector<uint64_t> append_ns, commit_ns;
    append_ns.reserve(static_cast<size_t>(o.records));
    commit_ns.reserve(static_cast<size_t>(o.records));
    std::vector<uint64_t> appended_at(static_cast<size_t>(o.records));
    long commits = 0, errors = 0;

    // A completion: the FSYNC of a batch makes its records durable and frees its buffer.
    auto reap = [&](bool wait) -> bool {
        io_uring_cqe* cqe = nullptr;
        int r = wait ? io_uring_wait_cqe(&ring, &cqe) : io_uring_peek_cqe(&ring, &cqe);
        if (r != 0) return false;
        const uint64_t ud = cqe->user_data;
        const int res = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
        const unsigned buf = static_cast<unsigned>(ud >> 1);
        if (res < 0) ++errors;
        if ((ud & 1) != 0) {  // the FSYNC ends the batch
            const uint64_t t = now_ns();
            for (uint64_t s = 0; s < batch_count[buf]; ++s)
                commit_ns.push_back(t - appended_at[batch_first_seq[buf] + s]);
            ++commits;
            free_bufs.push_back(buf);
        }
        return true;
    };

    const long long toy0 = proc_counter("ToyEnters"), host0 = proc_counter("HostEnters");
    const uint64_t start = now_ns();
    unsigned cur = 0, in_cur = 0;
    uint64_t file_off = 0;
    bool have_buf = false;
    for (long seq = 0; seq < o.records; ++seq) {
        const uint64_t t0 = now_ns();
        while (reap(false)) {
        }
        if (!have_buf) {
            while (free_bufs.empty()) reap(true);  // backpressure: every buffer is in flight
            cur = free_bufs.back();
            free_bufs.pop_back();
            batch_first_seq[cur] = static_cast<uint64_t>(seq);
            in_cur = 0;
            have_buf = true;
        }
        fill_record(pool + cur * buf_len + static_cast<size_t>(in_cur) * o.record_size,
                    static_cast<uint64_t>(seq), o.record_size);
        appended_at[static_cast<size_t>(seq)] = t0;
        ++in_cur;
        if (in_cur == o.batch || seq + 1 == o.records) {
            // Group commit: the write, then (linked, so only after it) the fdatasync.
            const unsigned len = in_cur * o.record_size;
            io_uring_sqe* w = io_uring_get_sqe(&ring);
            io_uring_prep_write_fixed(w, fd, pool + cur * buf_len, len, file_off,
                                      static_cast<int>(cur));
            io_uring_sqe_set_data64(w, uint64_t{cur} << 1);
            io_uring_sqe_set_flags(w, IOSQE_IO_LINK);
            io_uring_sqe* s = io_uring_get_sqe(&ring);
            io_uring_prep_fsync(s, fd, IORING_FSYNC_DATASYNC);
            io_uring_sqe_set_data64(s, (uint64_t{cur} << 1) | 1);
            io_uring_submit(&ring);
            batch_count[cur] = in_cur;
            file_off += len;
            have_buf = false;
        }
        append_ns.push_back(now_ns() - t0);
    }
    while (commits < static_cast<long>((o.records + o.batch - 1) / o.batch)) reap(true);
    const double secs = static_cast<double>(now_ns() - start) * 1e-9;
    const long long toy = proc_counter("ToyEnters") - toy0,
                    host = proc_counter("HostEnters") - host0;
    io_uring_queue_exit(&ring);
    sys::close(fd);

    int verified = -1;
    if (o.verify) verified = verify(o) == 0 ? 1 : 0;
    const uint64_t a50 = percentile(append_ns, 0.50), a99 = percentile(append_ns, 0.99);
    const uint64_t c50 = percentile(commit_ns, 0.50), c99 = percentile(commit_ns, 0.99);
    if (o.json) {
        io::printf(
            1,
            "{\"records\":%ld,\"record_size\":%u,\"batch\":%u,\"sqpoll\":%s,\"seconds\":%.3f,"
            "\"appends_per_sec\":%.0f,\"commits_per_sec\":%.1f,\"append_p50_ns\":%llu,"
            "\"append_p99_ns\":%llu,\"commit_p50_ns\":%llu,\"commit_p99_ns\":%llu,"
            "\"errors\":%ld,\"toy_enters\":%lld,\"host_enters\":%lld,\"verified\":%s}\n",
            o.records, o.record_size, o.batch, o.sqpoll ? "true" : "false", secs,
            static_cast<double>(o.records) / secs, static_cast<double>(commits) / secs,
            static_cast<unsigned long long>(a50), static_cast<unsigned long long>(a99),
            static_cast<unsigned long long>(c50), static_cast<unsigned long long>(c99), errors, toy,
            host,
            verified < 0 ? "null"
            : verified   ? "true"
                         : "false");
    } else {
        io::printf(1,
                   "wal: records=%ld size=%u batch=%u%s: %.0f appends/s, %.1f commits/s\n"
                   "  append (ns): p50=%llu p99=%llu\n"
                   "  commit (us): p50=%.1f p99=%.1f\n"
                   "  errors=%ld toy_enters=%lld host_enters=%lld%s\n",
                   o.records, o.record_size, o.batch, o.sqpoll ? " sqpoll" : "",
                   static_cast<double>(o.records) / secs, static_cast<double>(commits) / secs,
                   static_cast<unsigned long long>(a50), static_cast<unsigned long long>(a99),
                   static_cast<double>(c50) / 1e3, static_cast<double>(c99) / 1e3, errors, toy,
                   host,
                   verified < 0 ? ""
                   : verified   ? " verified=yes"
                                : " verified=NO");
    }
    return errors == 0 && verified != 0 ? 0 : 1;
}
