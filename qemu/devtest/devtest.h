// devtest: the device tests run inside the QEMU guest, as a toyos userland program (a shared
// object run with `toyos run --nvme`). They drive the toy rings against the emulated NVMe
// disk and check every byte read against the image's known pattern (../image_pattern.h),
// and /proc/iouring's counters to prove which host path ran the I/O.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include "toyos/liburing.h"

namespace toyos::devtest {

// Which host path the run under test must have used (toyos run's executor options).
enum class Expect {
    Uring,       // default: passthrough ring, IOPOLL ring, host registered buffers
    Threads,     // --executor threads: no host ring at all, same data
    HostSqpoll,  // --sqpoll: general host rings in SQPOLL mode
};

struct Options {
    size_t lba_size = 512;  // the namespace's logical block size
    uint32_t nsid = 1;      // its namespace id
    uint64_t lbas = 0;      // its capacity in logical blocks
    const char* ng = "/dev/ng0n1";
    const char* block = "/dev/nvme0n1";
    const char* region = nullptr;  // where write tests write (image_pattern.h); default theirs
    Expect expect = Expect::Uring;
};

// A test's outcome: PASS with a summary, FAIL with the reason, or SKIP with the reason.
struct Verdict {
    enum Status { Pass, Fail, Skip } status = Pass;
    char text[320] = "";
};

inline Verdict ok() {
    return Verdict{};
}  // PASS, nothing to say
Verdict pass(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
Verdict fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
Verdict skip(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Returns a FAIL naming the line when `cond` is false.
#define DT_CHECK(cond, ...)                                                             \
    do {                                                                                \
        if (!(cond)) return ::toyos::devtest::fail_at(__LINE__, #cond, "" __VA_ARGS__); \
    } while (0)
Verdict fail_at(int line, const char* cond, const char* fmt, ...);

// Page-aligned memory of the process (sys::mmap): what O_DIRECT and the device need.
struct DmaBuffer {
    unsigned char* data = nullptr;
    size_t bytes = 0;
    explicit DmaBuffer(size_t n);
    ~DmaBuffer();
    DmaBuffer(const DmaBuffer&) = delete;
    DmaBuffer& operator=(const DmaBuffer&) = delete;
    bool ok() const { return data != nullptr; }
};

// The seed and offset a write test uses: its own region, or --region.
struct WriteTarget {
    const char* name;
    uint64_t offset;
    uint64_t bytes;
    uint64_t seed;
};
bool write_target(const Options& o, const char* own, WriteTarget& out);

// A deterministic spread of block addresses over the read region.
uint64_t spread_lba(unsigned i, uint64_t lbas_in_region, unsigned nlb);

// Submits everything prepared and waits for one CQE (entering the kernel if needed).
int wait_one(io_uring* ring, io_uring_cqe** cqe);

// The tests (nvme_tests.cpp, block_tests.cpp).
Verdict test_passthrough_read(const Options& o);
Verdict test_passthrough_write(const Options& o);
Verdict test_passthrough_errors(const Options& o);
Verdict test_iopoll_read(const Options& o);
Verdict test_iopoll_write(const Options& o);
Verdict test_iopoll_rules(const Options& o);
Verdict test_fixed_odirect(const Options& o);
Verdict test_fixed_iopoll(const Options& o);
Verdict test_sqpoll(const Options& o);

}  // namespace toyos::devtest
