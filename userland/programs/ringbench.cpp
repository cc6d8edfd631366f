// ringbench: an fio-like I/O benchmark on the toy ring, after seed 002.
//
// One job keeps --iodepth operations in flight on one ring (reads, writes or NOPs), refills
// the SQ from the completions it reaps and submits each refill with one io_uring_enter
// (none at all with --sqpoll while the kernel's poller is awake). One operation in
// --lat-sample (100: 1%) carries a timestamp; the others only bump counters kept in local
// variables. --numjobs N runs N such jobs as processes (spawn) and adds them up.
//
// Syscalls per operation come from /proc/iouring (ToyEnters, HostEnters), read before and
// after the run. --output-format=json uses fio's key names where fio has one.
#include <time.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "toyos/arena.h"
#include "toyos/io.h"
#include "toyos/liburing.h"
#include "toyos/program.h"
#include "toyos/sys.h"

namespace {

using namespace toyos;

enum Dir { kRead = 0, kWrite = 1, kNop = 2, kDirs = 3 };
const char* const kDirName[kDirs] = {"read", "write", "nop"};

enum class Pattern { Read, Write, RandRead, RandWrite, RandRw };

struct Options {
    Pattern rw = Pattern::RandRead;
    const char* rw_name = "randread";
    bool nop = false;  // --ioengine=nop
    uint64_t bs = 4096;
    unsigned iodepth = 1;
    unsigned batch_submit = 0;        // 0: submit whatever a refill queued
    unsigned batch_complete_min = 1;  // completions to wait for before refilling
    uint64_t size = 0;                // 0: the file's size
    double runtime = 0;               // seconds; 0: one pass over --size (or --number_ios)
    uint64_t number_ios = 0;
    bool direct = false;
    bool fixedbufs = false;
    bool registerfiles = false;
    bool sqpoll = false;
    unsigned sqpoll_idle_ms = 1000;
    unsigned rwmixread = 50;
    unsigned numjobs = 1;
    unsigned lat_sample = 100;  // one operation in this many has its latency measured
    uint64_t seed = 0x2545F4914F6CDD1DULL;
    bool json = false;
    bool progress = true;
    const char* filename = "/ringbench.dat";
    // Internal: a job spawned by --numjobs writes its result here.
    int job_index = -1;
    const char* job_result = nullptr;
};

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// --- latency histogram: log-linear, 8 buckets per power of two (within 12.5%) -----------------
struct Histogram {
    static constexpr int kSubBits = 3;
    static constexpr int kSub = 1 << kSubBits;
    static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;
    uint64_t bucket[kBuckets] = {};
    uint64_t count = 0, sum = 0, min = UINT64_MAX, max = 0;

    static int bucket_of(uint64_t v) {
        if (v < kSub) return static_cast<int>(v);
        const int msb = 63 - __builtin_clzll(v);
        const int shift = msb - kSubBits;
        return (shift + 1) * kSub + static_cast<int>((v >> shift) & (kSub - 1));
    }
    static uint64_t lower(int b) {
        if (b < kSub) return static_cast<uint64_t>(b);
        return static_cast<uint64_t>(kSub + b % kSub) << (b / kSub - 1);
    }
    static uint64_t upper(int b) {
        if (b < kSub) return static_cast<uint64_t>(b);
        return lower(b) + (uint64_t{1} << (b / kSub - 1)) - 1;
    }
    void record(uint64_t ns) {
        ++bucket[bucket_of(ns)];
        ++count;
        sum += ns;
        min = std::min(min, ns);
        max = std::max(max, ns);
    }
    void merge(const Histogram& o) {
        for (int i = 0; i < kBuckets; ++i) bucket[i] += o.bucket[i];
        count += o.count;
        sum += o.sum;
        min = std::min(min, o.min);
        max = std::max(max, o.max);
    }
    uint64_t percentile(double q) const {
        if (count == 0) return 0;
        auto rank = static_cast<uint64_t>(q * static_cast<double>(count - 1));
        for (int i = 0; i < kBuckets; ++i) {
            if (rank < bucket[i]) return std::clamp((lower(i) + upper(i)) / 2, min, max);
            rank -= bucket[i];
        }
        return max;
    }
};

struct JobResult {
    uint64_t ios[kDirs] = {};
    uint64_t bytes[kDirs] = {};
    uint64_t short_ios[kDirs] = {};
    uint64_t errors = 0;
    int first_error = 0;
    uint64_t runtime_ns = 0;
    Histogram lat[kDirs];
};

// --- output helpers: text is built in std::string, written through image memory ------------------
char g_out[8192];  // the kernel takes only the program's own memory, not malloc's

void emit(int fd, const std::string& s) {
    for (size_t at = 0; at < s.size(); at += sizeof(g_out)) {
        const size_t n = std::min(sizeof(g_out), s.size() - at);
        std::memcpy(g_out, s.data() + at, n);
        io::write_all(fd, g_out, n);
    }
}

__attribute__((format(printf, 2, 3))) void appendf(std::string& s, const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0) s.append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
}

// --- /proc/iouring counters ---------------------------------------------------------------------
char g_proc[16384];

struct ProcCounters {
    long long toy_enters = -1, host_enters = -1, submissions = -1, completions = -1;
    bool stats_on = true;
};

long long proc_value(const char* text, const char* key) {
    char k[64];
    std::snprintf(k, sizeof(k), "\n%s:\t", key);
    const char* at = std::strstr(text, k);
    if (at == nullptr) return -1;
    return std::atoll(at + std::strlen(k));
}

ProcCounters read_proc() {
    ProcCounters c;
    const int fd = sys::open("/proc/iouring", O_RDONLY);
    if (fd < 0) return c;
    g_proc[0] = '\n';  // so that the first key matches "\nKey:\t" too
    size_t len = 1;
    for (;;) {
        const ssize_t n = sys::read(fd, g_proc + len, sizeof(g_proc) - 1 - len);
        if (n <= 0) break;
        len += static_cast<size_t>(n);
    }
    sys::close(fd);
    g_proc[len] = '\0';
    c.toy_enters = proc_value(g_proc, "ToyEnters");
    c.host_enters = proc_value(g_proc, "HostEnters");
    c.submissions = proc_value(g_proc, "TotalSubmissions");
    c.completions = proc_value(g_proc, "TotalCompletions");
    c.stats_on = std::strstr(g_proc, "\nStats:\toff") == nullptr;
    return c;
}

// --- options ------------------------------------------------------------------------------------
int usage(int code) {
    io::puts(
        code == 0 ? 1 : 2,
        "usage: ringbench [OPTIONS]   (fio-like; --key=value or --key value)\n"
        "  --rw=read|write|randread|randwrite|randrw  pattern (default randread)\n"
        "  --rwmixread=PCT     reads in randrw (default 50)\n"
        "  --bs=SIZE           block size (default 4k; suffixes k m g)\n"
        "  --iodepth=N         operations in flight (default 1)\n"
        "  --size=SIZE         file region to use (default: the file's size); the file is\n"
        "                      laid out to SIZE first if it is shorter\n"
        "  --runtime=SECS      run this long (s or ms suffix), wrapping around the file;\n"
        "                      without it: one pass over --size\n"
        "  --number_ios=N      stop after N operations\n"
        "  --direct=0|1        O_DIRECT\n"
        "  --fixedbufs         registered buffers (READ_FIXED/WRITE_FIXED)\n"
        "  --registerfiles     a registered file (IOSQE_FIXED_FILE)\n"
        "  --sqpoll[=IDLE_MS]  an IORING_SETUP_SQPOLL ring: the kernel's poller takes the SQEs\n"
        "                      and the job polls the CQ, so a busy job makes no syscall\n"
        "  --filename=PATH     the file (default /ringbench.dat)\n"
        "  --numjobs=N         N jobs, each a process with its own ring (spawn)\n"
        "  --ioengine=io_uring|nop  nop: NOPs only, the ring's own overhead\n"
        "  --batch=N           submit N at a time and wait for N completions (NOP: submit N,\n"
        "                      reap N; iodepth defaults to N)\n"
        "  --iodepth_batch_submit=N, --iodepth_batch_complete_min=N  the two halves of --batch\n"
        "  --lat-sample=N      measure the latency of one operation in N (default 100: 1%)\n"
        "  --randseed=N        random offsets' seed\n"
        "  --progress=0|1      a progress line on stderr each second (default 1)\n"
        "  --output-format=normal|json\n");
    return code;
}

bool parse_size(const char* s, uint64_t& out) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (end == s) return false;
    uint64_t mult = 1;
    switch (*end) {
        case '\0':
            break;
        case 'k':
        case 'K':
            mult = 1ULL << 10;
            ++end;
            break;
        case 'm':
        case 'M':
            mult = 1ULL << 20;
            ++end;
            break;
        case 'g':
        case 'G':
            mult = 1ULL << 30;
            ++end;
            break;
        default:
            return false;
    }
    if (*end == 'i' || *end == 'I') ++end;  // "kib"
    if (*end == 'b' || *end == 'B') ++end;
    if (*end != '\0') return false;
    out = v * mult;
    return true;
}

bool parse_seconds(const char* s, double& out) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end == s || v < 0) return false;
    if (std::strcmp(end, "ms") == 0)
        out = v / 1000.0;
    else if (*end == '\0' || std::strcmp(end, "s") == 0)
        out = v;
    else
        return false;
    return true;
}

bool parse_uint(const char* s, unsigned& out, unsigned lo, unsigned hi) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi) return false;
    out = static_cast<unsigned>(v);
    return true;
}

bool parse_bool(const char* s, bool& out) {
    if (s == nullptr || std::strcmp(s, "1") == 0 || std::strcmp(s, "true") == 0) {
        out = true;
        return true;
    }
    if (std::strcmp(s, "0") == 0 || std::strcmp(s, "false") == 0) {
        out = false;
        return true;
    }
    return false;
}

bool parse(int argc, char** argv, Options& o) {
    bool iodepth_given = false, batch_submit_given = false;
    for (int i = 1; i < argc; ++i) {
        const char* arg = argv[i];
        if (std::strncmp(arg, "--", 2) != 0) {
            io::printf(2, "ringbench: unexpected argument '%s'\n", arg);
            return false;
        }
        std::string key = arg + 2;
        const char* val = nullptr;
        if (const size_t eq = key.find('='); eq != std::string::npos) {
            val = arg + 2 + eq + 1;
            key.resize(eq);
        }
        for (char& c : key)
            if (c == '-') c = '_';
        // Flags may stand alone; everything else takes a value (inline or the next word).
        const bool flag = key == "fixedbufs" || key == "registerfiles" || key == "sqpoll" ||
                          key == "direct" || key == "progress";
        if (val == nullptr && !flag) {
            if (i + 1 >= argc) {
                io::printf(2, "ringbench: --%s needs a value\n", key.c_str());
                return false;
            }
            val = argv[++i];
        }
        bool ok = true;
        if (key == "rw" || key == "readwrite") {
            o.rw_name = val;
            if (std::strcmp(val, "read") == 0)
                o.rw = Pattern::Read;
            else if (std::strcmp(val, "write") == 0)
                o.rw = Pattern::Write;
            else if (std::strcmp(val, "randread") == 0)
                o.rw = Pattern::RandRead;
            else if (std::strcmp(val, "randwrite") == 0)
                o.rw = Pattern::RandWrite;
            else if (std::strcmp(val, "randrw") == 0)
                o.rw = Pattern::RandRw;
            else
                ok = false;
        } else if (key == "rwmixread") {
            ok = parse_uint(val, o.rwmixread, 0, 100);
        } else if (key == "bs") {
            ok = parse_size(val, o.bs) && o.bs > 0 && o.bs <= (64u << 20);
        } else if (key == "iodepth") {
            ok = parse_uint(val, o.iodepth, 1, 4096);
            iodepth_given = true;
        } else if (key == "batch") {
            unsigned b = 0;
            ok = parse_uint(val, b, 1, 4096);
            o.batch_submit = o.batch_complete_min = b;
            batch_submit_given = true;
        } else if (key == "iodepth_batch_submit" || key == "iodepth_batch") {
            ok = parse_uint(val, o.batch_submit, 0, 4096);
            batch_submit_given = true;
        } else if (key == "iodepth_batch_complete_min") {
            ok = parse_uint(val, o.batch_complete_min, 1, 4096);
        } else if (key == "size") {
            ok = parse_size(val, o.size);
        } else if (key == "runtime") {
            ok = parse_seconds(val, o.runtime);
        } else if (key == "number_ios") {
            ok = parse_size(val, o.number_ios);
        } else if (key == "direct") {
            ok = parse_bool(val, o.direct);
        } else if (key == "fixedbufs") {
            ok = parse_bool(val, o.fixedbufs);
        } else if (key == "registerfiles") {
            ok = parse_bool(val, o.registerfiles);
        } else if (key == "sqpoll") {
            o.sqpoll = true;
            if (val != nullptr && !parse_bool(val, o.sqpoll))
                ok = parse_uint(val, o.sqpoll_idle_ms, 1, 600000);
        } else if (key == "progress") {
            ok = parse_bool(val, o.progress);
        } else if (key == "filename") {
            o.filename = val;
        } else if (key == "numjobs") {
            ok = parse_uint(val, o.numjobs, 1, 64);
        } else if (key == "ioengine") {
            if (std::strcmp(val, "nop") == 0)
                o.nop = true;
            else if (std::strcmp(val, "io_uring") == 0)
                o.nop = false;
            else
                ok = false;
        } else if (key == "lat_sample") {
            ok = parse_uint(val, o.lat_sample, 1, 1u << 30);
        } else if (key == "randseed") {
            ok = parse_size(val, o.seed);
        } else if (key == "output_format") {
            if (std::strcmp(val, "json") == 0)
                o.json = true;
            else if (std::strcmp(val, "normal") == 0)
                o.json = false;
            else
                ok = false;
        } else if (key == "job_index") {
            unsigned j = 0;
            ok = parse_uint(val, j, 0, 63);
            o.job_index = static_cast<int>(j);
        } else if (key == "job_result") {
            o.job_result = val;
        } else {
            io::printf(2, "ringbench: unknown option --%s\n", key.c_str());
            return false;
        }
        if (!ok) {
            io::printf(2, "ringbench: bad value for --%s: '%s'\n", key.c_str(), val ? val : "");
            return false;
        }
    }
    if (o.nop) {
        // NOP: submit a batch, reap the batch.
        if (o.batch_submit == 0) o.batch_submit = o.batch_complete_min;
        if (!iodepth_given) o.iodepth = o.batch_submit;
        if (!batch_submit_given) o.batch_submit = o.batch_complete_min = o.iodepth;
    }
    if (o.batch_submit > o.iodepth || o.batch_complete_min > o.iodepth) {
        io::puts(2, "ringbench: batch sizes cannot exceed --iodepth\n");
        return false;
    }
    if (o.direct && (o.bs % 512) != 0) {
        io::puts(2, "ringbench: --direct needs a block size that is a multiple of 512\n");
        return false;
    }
    return true;
}

// --- one job ------------------------------------------------------------------------------------
struct Rng {
    uint64_t s;
    uint64_t next() {  // xorshift64*
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545F4914F6CDD1DULL;
    }
};

bool pattern_reads(Pattern p) {
    return p == Pattern::Read || p == Pattern::RandRead || p == Pattern::RandRw;
}

// The size of the block device at `path` (its end, as lseek sees it).
int device_size(const char* path, uint64_t& size) {
    const int fd = sys::open(path, O_RDONLY);
    if (fd < 0) return fd;
    const off_t end = sys::lseek(fd, 0, SEEK_END);
    sys::close(fd);
    if (end < 0) return static_cast<int>(end);
    size = static_cast<uint64_t>(end);
    return 0;
}

// Makes the file at least `size` bytes long (fio lays out its files the same way), with
// plain pwrite: the ring's counters then hold the benchmark's operations only. A device is
// never written here: the region must fit inside it (-ENOSPC otherwise).
int lay_out(const Options& o, uint64_t size) {
    struct stat existing {};
    if (sys::stat(o.filename, &existing) == 0 && !S_ISREG(existing.st_mode)) {
        // A character device (/dev/zero) has no size to lay out: --size is the region.
        if (S_ISCHR(existing.st_mode)) return 0;
        if (!S_ISBLK(existing.st_mode)) return -EINVAL;
        uint64_t have = 0;
        if (int r = device_size(o.filename, have); r < 0) return r;
        return have >= size ? 0 : -ENOSPC;
    }
    const int fd = sys::open(o.filename, O_RDWR | O_CREAT, 0644);
    if (fd < 0) return fd;
    struct stat st {};
    if (int r = sys::fstat(fd, &st); r < 0) {
        sys::close(fd);
        return r;
    }
    const uint64_t have = static_cast<uint64_t>(st.st_size);
    if (have < size) {
        constexpr size_t kChunk = 1u << 20;
        void* mem =
            sys::mmap(nullptr, kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            sys::close(fd);
            return -sys::last_mmap_error();
        }
        auto* p = static_cast<unsigned char*>(mem);
        for (size_t i = 0; i < kChunk; ++i) p[i] = static_cast<unsigned char>(i * 7 + 1);
        for (uint64_t off = have; off < size;) {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - off));
            const ssize_t w = sys::pwrite(fd, p, n, static_cast<off_t>(off));
            if (w <= 0) {
                sys::munmap(mem, kChunk);
                sys::close(fd);
                return w < 0 ? static_cast<int>(w) : -EIO;
            }
            off += static_cast<uint64_t>(w);
        }
        sys::munmap(mem, kChunk);
        sys::fsync(fd);
    }
    sys::close(fd);
    return 0;
}

// The region the job works on: --size, or the file's size.
int region_size(const Options& o, uint64_t& size) {
    if (o.size != 0) {
        size = o.size;
        return 0;
    }
    struct stat st {};
    if (int r = sys::stat(o.filename, &st); r < 0) return r;
    size = static_cast<uint64_t>(st.st_size);
    if (S_ISBLK(st.st_mode)) {  // a block device's st_size is 0: its end is its size
        if (int r = device_size(o.filename, size); r < 0) return r;
    }
    return size >= o.bs ? 0 : -EINVAL;
}

void print_progress(double elapsed, uint64_t ops, uint64_t bytes, uint64_t dops, uint64_t dbytes,
                    double dt) {
    io::printf(2, "ringbench: [%.0fs] %.1fk IOPS, %.1f MiB/s (total %llu ops, %.1f MiB)\n", elapsed,
               static_cast<double>(dops) / dt / 1e3, static_cast<double>(dbytes) / dt / (1 << 20),
               static_cast<unsigned long long>(ops), static_cast<double>(bytes) / (1 << 20));
}

int run_job(const Options& o, uint64_t size, JobResult& res) {
    const unsigned depth = o.iodepth;
    int fd = -1;
    if (!o.nop) {
        const bool reads = pattern_reads(o.rw);
        const bool writes = o.rw != Pattern::Read && o.rw != Pattern::RandRead;
        const int mode = reads && writes ? O_RDWR : writes ? O_WRONLY : O_RDONLY;
        fd = sys::open(o.filename, mode | (o.direct ? O_DIRECT : 0));
        if (fd < 0) {
            io::printf(2, "ringbench: %s: %s\n", o.filename, io::error_text(fd));
            return 1;
        }
    }
    io_uring ring;
    io_uring_params p{};
    if (o.sqpoll) {
        p.flags |= IORING_SETUP_SQPOLL;
        p.sq_thread_idle = o.sqpoll_idle_ms;
    }
    if (int r = io_uring_queue_init_params(depth, &ring, &p); r < 0) {
        io::printf(2, "ringbench: io_uring_setup: %s\n", io::error_text(r));
        return 1;
    }
    // One buffer per slot; the slot index is the operation's user_data.
    unsigned char* bufs = nullptr;
    const size_t buf_bytes = o.nop ? 0 : static_cast<size_t>(o.bs) * depth;
    if (buf_bytes > 0) {
        void* mem = sys::mmap(nullptr, buf_bytes, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            io::printf(2, "ringbench: mmap %zu bytes: %s\n", buf_bytes,
                       io::error_text(-sys::last_mmap_error()));
            return 1;
        }
        bufs = static_cast<unsigned char*>(mem);
        for (size_t i = 0; i < buf_bytes; ++i) bufs[i] = static_cast<unsigned char>(i * 13 + 5);
    }
    if (o.fixedbufs && !o.nop) {
        void* mem = sys::mmap(nullptr, depth * sizeof(iovec), PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) return 1;
        auto* iov = static_cast<iovec*>(mem);
        for (unsigned i = 0; i < depth; ++i) iov[i] = {bufs + i * o.bs, o.bs};
        if (int r = io_uring_register_buffers(&ring, iov, depth); r < 0) {
            io::printf(2, "ringbench: register buffers: %s\n", io::error_text(r));
            return 1;
        }
    }
    int op_fd = fd;
    if (o.registerfiles && !o.nop) {
        static int files[1];
        files[0] = fd;
        if (int r = io_uring_register_files(&ring, files, 1); r < 0) {
            io::printf(2, "ringbench: register files: %s\n", io::error_text(r));
            return 1;
        }
        op_fd = 0;
    }

    struct Slot {
        uint64_t t0;  // submit time when sampled, else 0
        uint8_t dir;
    };
    std::vector<Slot> slots(depth);
    std::vector<unsigned> free_slots(depth);
    for (unsigned i = 0; i < depth; ++i) free_slots[i] = depth - 1 - i;

    Rng rng{o.seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(o.job_index + 1)};
    const uint64_t blocks = o.nop ? 1 : size / o.bs;
    if (!o.nop && blocks == 0) {
        io::puts(2, "ringbench: --size is smaller than --bs\n");
        return 1;
    }
    uint64_t limit = o.number_ios;
    if (limit == 0 && o.runtime <= 0) limit = o.nop ? 1000000 : blocks;
    const uint64_t runtime_ns = static_cast<uint64_t>(o.runtime * 1e9);
    const bool progress = o.progress && o.job_index < 0;
    const bool sequential = o.rw == Pattern::Read || o.rw == Pattern::Write;
    const uint8_t fixed_flag = o.registerfiles ? IOSQE_FIXED_FILE : 0;

    // The hot loop's counters are locals (seed 002: batched counters).
    uint64_t ios[kDirs] = {}, bytes[kDirs] = {}, short_ios[kDirs] = {};
    uint64_t issued = 0, seq_block = 0, sample_countdown = 1;
    unsigned inflight = 0, queued = 0, iteration = 0;
    bool stopping = false;
    const uint64_t start = now_ns();
    uint64_t last_progress = start, last_ops = 0, last_bytes = 0;

    auto prep_one = [&](io_uring_sqe* sqe) {
        const unsigned slot = free_slots.back();
        free_slots.pop_back();
        uint8_t dir = kNop;
        if (o.nop) {
            io_uring_prep_nop(sqe);
        } else {
            switch (o.rw) {
                case Pattern::Read:
                case Pattern::RandRead:
                    dir = kRead;
                    break;
                case Pattern::Write:
                case Pattern::RandWrite:
                    dir = kWrite;
                    break;
                case Pattern::RandRw:
                    dir = rng.next() % 100 < o.rwmixread ? kRead : kWrite;
                    break;
            }
            uint64_t block;
            if (sequential) {
                block = seq_block;
                if (++seq_block == blocks) seq_block = 0;
            } else {
                block = rng.next() % blocks;
            }
            const uint64_t off = block * o.bs;
            unsigned char* buf = bufs + static_cast<size_t>(slot) * o.bs;
            const auto len = static_cast<unsigned>(o.bs);
            if (o.fixedbufs) {
                if (dir == kRead)
                    io_uring_prep_read_fixed(sqe, op_fd, buf, len, off, static_cast<int>(slot));
                else
                    io_uring_prep_write_fixed(sqe, op_fd, buf, len, off, static_cast<int>(slot));
            } else if (dir == kRead) {
                io_uring_prep_read(sqe, op_fd, buf, len, off);
            } else {
                io_uring_prep_write(sqe, op_fd, buf, len, off);
            }
            sqe->flags = fixed_flag;
        }
        io_uring_sqe_set_data64(sqe, slot);
        slots[slot].dir = dir;
        if (--sample_countdown == 0) {
            sample_countdown = o.lat_sample;
            slots[slot].t0 = now_ns();
        } else {
            slots[slot].t0 = 0;
        }
    };

    for (;;) {
        // Refill: as many as the depth allows (in whole batches with --iodepth_batch_submit).
        if (!stopping) {
            unsigned room = depth - inflight - queued;
            if (limit != 0) room = static_cast<unsigned>(std::min<uint64_t>(room, limit - issued));
            if (o.batch_submit > 1 && room < o.batch_submit && limit - issued > room) room = 0;
            for (unsigned i = 0; i < room; ++i) {
                io_uring_sqe* sqe = io_uring_get_sqe(&ring);
                if (sqe == nullptr) break;
                prep_one(sqe);
                ++queued;
                ++issued;
            }
        }
        if (inflight + queued == 0) break;

        // Submit and wait, in one enter. With SQPOLL the poller takes the SQEs and the job
        // polls the CQ: it enters only to wake the poller, or after spinning in vain.
        const unsigned want = std::min(o.batch_complete_min, inflight + queued);
        if (o.sqpoll) {
            if (queued > 0) {
                io_uring_submit(&ring);
                inflight += queued;
                queued = 0;
            }
            for (unsigned spins = 0; io_uring_cq_ready(&ring) < want; ++spins) {
                if (spins < (1u << 20)) {
                    __builtin_ia32_pause();
                    continue;
                }
                io_uring_cqe* c = nullptr;
                io_uring_wait_cqe_nr(&ring, &c, want);
                break;
            }
        } else {
            const unsigned wait_nr = io_uring_cq_ready(&ring) >= want ? 0 : want;
            if (queued > 0 || wait_nr > 0) {
                const int r = io_uring_submit_and_wait(&ring, wait_nr);
                if (r < 0 && r != -EINTR && r != -ETIME && r != -EBUSY) {
                    io::printf(2, "ringbench: io_uring_enter: %s\n", io::error_text(r));
                    return 1;
                }
                // The kernel consumes the whole SQ (it takes every SQE it is told of).
                inflight += queued;
                queued = 0;
            }
        }

        // Reap everything that is ready.
        io_uring_cqe* cqes[256];
        uint64_t reap_now = 0;
        for (;;) {
            const unsigned n = io_uring_peek_batch_cqe(&ring, cqes, 256);
            if (n == 0) break;
            for (unsigned i = 0; i < n; ++i) {
                const auto slot = static_cast<unsigned>(cqes[i]->user_data);
                const int r = cqes[i]->res;
                Slot& s = slots[slot];
                if (r < 0) {
                    if (res.errors++ == 0) res.first_error = r;
                } else {
                    ++ios[s.dir];
                    bytes[s.dir] += static_cast<uint64_t>(r);
                    if (s.dir != kNop && static_cast<uint64_t>(r) != o.bs) ++short_ios[s.dir];
                    if (s.t0 != 0) {
                        if (reap_now == 0) reap_now = now_ns();
                        res.lat[s.dir].record(reap_now - s.t0);
                    }
                }
                free_slots.push_back(slot);
            }
            io_uring_cq_advance(&ring, n);
            inflight -= n;
        }
        if (res.errors > 0 && !stopping) {
            io::printf(2, "ringbench: I/O error: %s\n", io::error_text(res.first_error));
            stopping = true;
        }
        if (limit != 0 && issued >= limit) stopping = true;

        // The clock, only every few iterations (seed 002).
        if ((++iteration & 31) == 0 || stopping) {
            const uint64_t t = now_ns();
            if (runtime_ns != 0 && t - start >= runtime_ns) stopping = true;
            if (progress && t - last_progress >= 1000000000u) {
                const uint64_t ops = ios[kRead] + ios[kWrite] + ios[kNop];
                const uint64_t b = bytes[kRead] + bytes[kWrite];
                print_progress(static_cast<double>(t - start) * 1e-9, ops, b, ops - last_ops,
                               b - last_bytes, static_cast<double>(t - last_progress) * 1e-9);
                last_progress = t;
                last_ops = ops;
                last_bytes = b;
            }
        }
    }
    res.runtime_ns = now_ns() - start;
    for (int d = 0; d < kDirs; ++d) {
        res.ios[d] = ios[d];
        res.bytes[d] = bytes[d];
        res.short_ios[d] = short_ios[d];
    }
    io_uring_queue_exit(&ring);
    if (fd >= 0) sys::close(fd);
    return res.errors == 0 ? 0 : 1;
}

// --- a spawned job's result, as text in a file
// ----------------------------------------------------
int write_result(const char* path, const JobResult& r) {
    std::string s;
    appendf(s, "v1 %llu %llu %d\n", static_cast<unsigned long long>(r.runtime_ns),
            static_cast<unsigned long long>(r.errors), r.first_error);
    for (int d = 0; d < kDirs; ++d) {
        const Histogram& h = r.lat[d];
        appendf(s, "%llu %llu %llu %llu %llu %llu %llu", static_cast<unsigned long long>(r.ios[d]),
                static_cast<unsigned long long>(r.bytes[d]),
                static_cast<unsigned long long>(r.short_ios[d]),
                static_cast<unsigned long long>(h.count), static_cast<unsigned long long>(h.sum),
                static_cast<unsigned long long>(h.min), static_cast<unsigned long long>(h.max));
        for (int b = 0; b < Histogram::kBuckets; ++b)
            if (h.bucket[b] != 0)
                appendf(s, " %d:%llu", b, static_cast<unsigned long long>(h.bucket[b]));
        s += '\n';
    }
    const int fd = sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return fd;
    emit(fd, s);
    sys::close(fd);
    return 0;
}

bool read_result(const char* path, JobResult& r) {
    const int fd = sys::open(path, O_RDONLY);
    if (fd < 0) return false;
    static char text[65536];
    size_t len = 0;
    for (;;) {
        const ssize_t n = sys::read(fd, text + len, sizeof(text) - 1 - len);
        if (n <= 0) break;
        len += static_cast<size_t>(n);
    }
    sys::close(fd);
    text[len] = '\0';
    char* p = text;
    if (std::strncmp(p, "v1 ", 3) != 0) return false;
    p += 3;
    r.runtime_ns = std::strtoull(p, &p, 10);
    r.errors = std::strtoull(p, &p, 10);
    r.first_error = static_cast<int>(std::strtol(p, &p, 10));
    for (int d = 0; d < kDirs; ++d) {
        Histogram& h = r.lat[d];
        r.ios[d] = std::strtoull(p, &p, 10);
        r.bytes[d] = std::strtoull(p, &p, 10);
        r.short_ios[d] = std::strtoull(p, &p, 10);
        h.count = std::strtoull(p, &p, 10);
        h.sum = std::strtoull(p, &p, 10);
        h.min = std::strtoull(p, &p, 10);
        h.max = std::strtoull(p, &p, 10);
        while (*p == ' ') {
            const long b = std::strtol(p + 1, &p, 10);
            if (*p != ':' || b < 0 || b >= Histogram::kBuckets) return false;
            h.bucket[b] = std::strtoull(p + 1, &p, 10);
        }
        if (*p != '\n') return false;
        ++p;
    }
    return true;
}

// --- the whole run: totals over every job
// ----------------------------------------------------------
struct Totals {
    uint64_t ios[kDirs] = {}, bytes[kDirs] = {}, short_ios[kDirs] = {};
    double iops[kDirs] = {}, bw[kDirs] = {};  // summed per job, as fio's group report does
    uint64_t runtime_ns = 0;                  // the longest job's
    uint64_t errors = 0;
    int first_error = 0;
    Histogram lat[kDirs];

    void add(const JobResult& r) {
        const double secs = std::max(1e-9, static_cast<double>(r.runtime_ns) * 1e-9);
        for (int d = 0; d < kDirs; ++d) {
            ios[d] += r.ios[d];
            bytes[d] += r.bytes[d];
            short_ios[d] += r.short_ios[d];
            iops[d] += static_cast<double>(r.ios[d]) / secs;
            bw[d] += static_cast<double>(r.bytes[d]) / secs;
            lat[d].merge(r.lat[d]);
        }
        runtime_ns = std::max(runtime_ns, r.runtime_ns);
        if (errors == 0 && r.errors > 0) first_error = r.first_error;
        errors += r.errors;
    }
    uint64_t total_ios() const { return ios[kRead] + ios[kWrite] + ios[kNop]; }
};

void json_dir(std::string& s, const Totals& t, int d) {
    const Histogram& h = t.lat[d];
    const auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
    appendf(s,
            "\"%s\":{\"io_bytes\":%llu,\"io_kbytes\":%llu,\"bw_bytes\":%.0f,\"bw\":%.0f,"
            "\"iops\":%.3f,\"runtime\":%llu,\"total_ios\":%llu,\"short_ios\":%llu,"
            "\"lat_ns\":{\"min\":%llu,\"max\":%llu,\"mean\":%.3f,\"N\":%llu,\"percentile\":{"
            "\"50.000000\":%llu,\"90.000000\":%llu,\"99.000000\":%llu,\"99.900000\":%llu}}}",
            kDirName[d], u(t.bytes[d]), u(t.bytes[d] / 1024), t.bw[d], t.bw[d] / 1024.0, t.iops[d],
            u(t.runtime_ns / 1000000), u(t.ios[d]), u(t.short_ios[d]), u(h.count ? h.min : 0),
            u(h.max), h.count ? static_cast<double>(h.sum) / static_cast<double>(h.count) : 0.0,
            u(h.count), u(h.percentile(0.50)), u(h.percentile(0.90)), u(h.percentile(0.99)),
            u(h.percentile(0.999)));
}

std::string per_op(long long n, uint64_t ops) {
    std::string s;
    if (n < 0 || ops == 0)
        s = "null";
    else
        appendf(s, "%.6f", static_cast<double>(n) / static_cast<double>(ops));
    return s;
}

void report(const Options& o, const Totals& t, uint64_t size, const ProcCounters& before,
            const ProcCounters& after) {
    // Enters are counted even with the kernel's statistics off; submissions are not.
    const bool counted = before.toy_enters >= 0 && after.toy_enters >= 0;
    const long long toy = counted ? after.toy_enters - before.toy_enters : -1;
    const long long host = counted && before.host_enters >= 0 && after.host_enters >= 0
                               ? after.host_enters - before.host_enters
                               : -1;
    const bool ops_counted = counted && after.stats_on && before.submissions >= 0;
    const long long subs = ops_counted ? after.submissions - before.submissions : -1;
    const long long comps = ops_counted ? after.completions - before.completions : -1;
    const uint64_t ops = t.total_ios();
    const auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
    std::string s;
    if (o.json) {
        auto num = [](long long v) {
            std::string r;
            if (v < 0)
                r = "null";
            else
                appendf(r, "%lld", v);
            return r;
        };
        appendf(s,
                "{\"ringbench version\":\"ringbench-1\",\"global options\":{\"rw\":\"%s\","
                "\"bs\":\"%llu\",\"iodepth\":\"%u\",\"ioengine\":\"%s\",\"size\":\"%llu\","
                "\"runtime\":\"%.3f\",\"direct\":\"%d\",\"fixedbufs\":\"%d\","
                "\"registerfiles\":\"%d\",\"sqpoll\":\"%d\",\"numjobs\":\"%u\","
                "\"iodepth_batch_submit\":\"%u\",\"iodepth_batch_complete_min\":\"%u\","
                "\"filename\":\"%s\"},",
                o.nop ? "nop" : o.rw_name, u(o.bs), o.iodepth, o.nop ? "nop" : "io_uring", u(size),
                o.runtime, o.direct, o.fixedbufs, o.registerfiles, o.sqpoll, o.numjobs,
                o.batch_submit, o.batch_complete_min, o.filename);
        appendf(s,
                "\"jobs\":[{\"jobname\":\"ringbench\",\"groupid\":0,\"error\":%d,"
                "\"job_runtime\":%llu,",
                -t.first_error, u(t.runtime_ns / 1000000));
        json_dir(s, t, kRead);
        s += ',';
        json_dir(s, t, kWrite);
        s += ',';
        json_dir(s, t, kNop);
        appendf(s,
                ",\"total_ios\":%llu,\"iops\":%.3f,\"toy_enters\":%s,\"host_enters\":%s,"
                "\"toy_enters_per_op\":%s,\"host_enters_per_op\":%s}],",
                u(ops), t.iops[kRead] + t.iops[kWrite] + t.iops[kNop], num(toy).c_str(),
                num(host).c_str(), per_op(toy, ops).c_str(), per_op(host, ops).c_str());
        appendf(s,
                "\"total_ios\":%llu,\"errors\":%llu,\"toy_enters\":%s,\"host_enters\":%s,"
                "\"ring_submissions\":%s,\"ring_completions\":%s,\"stats\":\"%s\"}\n",
                u(ops), u(t.errors), num(toy).c_str(), num(host).c_str(), num(subs).c_str(),
                num(comps).c_str(), after.stats_on ? "on" : "off");
        emit(1, s);
        return;
    }
    appendf(s,
            "ringbench: rw=%s bs=%llu iodepth=%u numjobs=%u ioengine=%s direct=%d fixedbufs=%d "
            "registerfiles=%d sqpoll=%d batch=%u/%u\n",
            o.nop ? "nop" : o.rw_name, u(o.bs), o.iodepth, o.numjobs, o.nop ? "nop" : "io_uring",
            o.direct, o.fixedbufs, o.registerfiles, o.sqpoll, o.batch_submit, o.batch_complete_min);
    for (int d = 0; d < kDirs; ++d) {
        if (t.ios[d] == 0) continue;
        const Histogram& h = t.lat[d];
        appendf(s, "  %s: IOPS=%.1fk, BW=%.1fMiB/s (%.1fMB/s), ios=%llu, runtime=%.2fs\n",
                kDirName[d], t.iops[d] / 1e3, t.bw[d] / (1 << 20), t.bw[d] / 1e6, u(t.ios[d]),
                static_cast<double>(t.runtime_ns) * 1e-9);
        appendf(s,
                "    lat (ns): p50=%llu, p99=%llu, p99.9=%llu, min=%llu, max=%llu, avg=%.0f "
                "(%llu samples, 1 in %u)\n",
                u(h.percentile(0.5)), u(h.percentile(0.99)), u(h.percentile(0.999)),
                u(h.count ? h.min : 0), u(h.max),
                h.count ? static_cast<double>(h.sum) / static_cast<double>(h.count) : 0.0,
                u(h.count), o.lat_sample);
        if (t.short_ios[d] > 0) appendf(s, "    short: %llu\n", u(t.short_ios[d]));
    }
    if (counted)
        appendf(s, "  syscalls: toy enters=%lld (%s/op), host io_uring_enter=%lld (%s/op)\n", toy,
                per_op(toy, ops).c_str(), host, per_op(host, ops).c_str());
    else
        s += "  syscalls: not counted (/proc/iouring unreadable)\n";
    if (t.errors > 0)
        appendf(s, "  errors: %llu (first: %s)\n", u(t.errors), io::error_text(t.first_error));
    emit(1, s);
}

// --numjobs: each job is a process running this program with --job-index.
int run_jobs(int argc, char** argv, const Options& o, Totals& totals) {
    Arena arena(256 * 1024);
    std::string dir = o.filename;
    dir.resize(dir.rfind('/') + 1);
    if (dir.empty()) dir = "/";
    std::vector<pid_t> pids;
    std::vector<const char*> results;
    const pid_t me = sys::getpid();
    for (unsigned j = 0; j < o.numjobs; ++j) {
        auto** cargv = static_cast<const char**>(arena.alloc((argc + 3) * sizeof(char*)));
        char idx[32], path[512];
        std::snprintf(idx, sizeof(idx), "--job-index=%u", j);
        std::snprintf(path, sizeof(path), "%s.ringbench-%d-%u.result", dir.c_str(), me, j);
        int n = 0;
        cargv[n++] = arena.strdup("ringbench");
        for (int i = 1; i < argc; ++i) cargv[n++] = arena.strdup(argv[i]);
        cargv[n++] = arena.strdup(idx);
        char opt[600];
        std::snprintf(opt, sizeof(opt), "--job-result=%s", path);
        cargv[n++] = arena.strdup(opt);
        cargv[n] = nullptr;
        const char* result_path = arena.strdup(path);
        if (cargv[n - 1] == nullptr || result_path == nullptr) return 1;
        const pid_t pid = sys::spawn("ringbench", cargv);
        if (pid < 0) {
            io::printf(2, "ringbench: spawn: %s\n", io::error_text(pid));
            return 1;
        }
        pids.push_back(pid);
        results.push_back(result_path);
    }
    // Progress from the kernel's own totals while the jobs run.
    const uint64_t start = now_ns();
    ProcCounters last = read_proc();
    uint64_t last_t = start;
    size_t running = pids.size();
    int rc = 0;
    std::vector<bool> done(pids.size(), false);
    while (running > 0) {
        for (size_t i = 0; i < pids.size(); ++i) {
            if (done[i]) continue;
            int st = 0;
            const pid_t w = sys::waitpid(pids[i], &st, WNOHANG);
            if (w == pids[i] || w < 0) {
                done[i] = true;
                --running;
                if (w < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) rc = 1;
            }
        }
        if (running == 0) break;
        sys::sleep_ns(50'000'000);
        const uint64_t t = now_ns();
        if (o.progress && t - last_t >= 1000000000u) {
            const ProcCounters c = read_proc();
            if (c.completions >= 0 && last.completions >= 0)
                print_progress(static_cast<double>(t - start) * 1e-9,
                               static_cast<uint64_t>(c.completions), 0,
                               static_cast<uint64_t>(c.completions - last.completions), 0,
                               static_cast<double>(t - last_t) * 1e-9);
            last = c;
            last_t = t;
        }
    }
    for (size_t j = 0; j < results.size(); ++j) {
        JobResult r;
        if (!read_result(results[j], r)) {
            io::printf(2, "ringbench: job %zu left no result\n", j);
            rc = 1;
            continue;
        }
        sys::unlink(results[j]);
        totals.add(r);
    }
    return rc;
}

}  // namespace

TOYOS_PROGRAM(ringbench, "ringbench",
              "ringbench --rw=randread --bs=4k --iodepth=64 ...: fio-like ring benchmark") {
    Options o;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return usage(0);
    if (!parse(argc, argv, o)) return usage(2);

    uint64_t size = 0;
    if (!o.nop && o.job_index < 0) {
        if (o.size != 0) {
            if (int r = lay_out(o, o.size); r < 0) {
                io::printf(2, "ringbench: laying out %s: %s\n", o.filename, io::error_text(r));
                return 1;
            }
        }
    }
    if (!o.nop) {
        if (int r = region_size(o, size); r < 0) {
            io::printf(2, "ringbench: %s: %s\n", o.filename,
                       r == -EINVAL ? "smaller than one block" : io::error_text(r));
            return 1;
        }
    }

    if (o.job_index >= 0) {  // a job of --numjobs
        JobResult r;
        const int rc = run_job(o, size, r);
        if (o.job_result != nullptr && write_result(o.job_result, r) < 0) return 1;
        return rc;
    }

    const ProcCounters before = read_proc();
    Totals totals;
    int rc = 0;
    if (o.numjobs > 1) {
        rc = run_jobs(argc, argv, o, totals);
    } else {
        JobResult r;
        rc = run_job(o, size, r);
        totals.add(r);
    }
    const ProcCounters after = read_proc();
    report(o, totals, size, before, after);
    return rc;
}
