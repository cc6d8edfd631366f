// Fault injection (toyos run --fault): seeded decisions replay exactly, on either executor;
// injected errors, short transfers (the data moved matches res), delays that block no other
// ring, ENOMEM on registration, and a host ring that fails to start (the kernel falls back to
// the thread pool and says so in /proc/iouring). Every injected result reaches userland.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "iouring/fault_plan.h"
#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/io.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

kernel::KernelConfig with_faults(const std::vector<std::string>& specs, uint64_t seed,
                                 const char* executor = "") {
    std::vector<iouring::FaultRule> rules;
    for (const std::string& s : specs) {
        iouring::FaultRule r;
        std::string error;
        EXPECT_TRUE(iouring::FaultPlan::parse(s, r, error)) << s << ": " << error;
        rules.push_back(r);
    }
    kernel::KernelConfig c;
    c.faults = std::make_shared<const iouring::FaultPlan>(std::move(rules), seed);
    c.executor = executor;
    return c;
}

char pattern(size_t off) {
    return static_cast<char>('a' + off % 23);
}

std::string pattern_file(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = pattern(i);
    return s;
}

// --- The grammar --------------------------------------------------------------------------
TEST(FaultPlan, ParsesTheDocumentedSpecs) {
    iouring::FaultRule r;
    std::string e;
    ASSERT_TRUE(iouring::FaultPlan::parse("read:error=EIO:prob=0.1", r, e)) << e;
    EXPECT_EQ(r.target, iouring::FaultRule::Target::Opcode);
    EXPECT_EQ(r.opcode, IORING_OP_READ);
    EXPECT_EQ(r.action.kind, iouring::FaultAction::Kind::Error);
    EXPECT_EQ(r.action.error, EIO);
    EXPECT_DOUBLE_EQ(r.prob, 0.1);
    ASSERT_TRUE(iouring::FaultPlan::parse("write:short=0.5:every=7", r, e)) << e;
    EXPECT_EQ(r.action.kind, iouring::FaultAction::Kind::Short);
    EXPECT_EQ(r.action.keep_ppm, 500000u);
    EXPECT_EQ(r.every, 7u);
    ASSERT_TRUE(iouring::FaultPlan::parse("*:delay=2ms:prob=0.01", r, e)) << e;
    EXPECT_EQ(r.target, iouring::FaultRule::Target::AnyOp);
    EXPECT_EQ(r.action.delay_ns, 2'000'000);
    ASSERT_TRUE(iouring::FaultPlan::parse("host-ring:fail", r, e)) << e;
    EXPECT_EQ(r.target, iouring::FaultRule::Target::HostRing);
    EXPECT_EQ(r.action.error, ENOMEM);
    ASSERT_TRUE(iouring::FaultPlan::parse("register-buffers:error=ENOMEM", r, e)) << e;
    EXPECT_EQ(r.target, iouring::FaultRule::Target::RegisterBuffers);
    ASSERT_TRUE(iouring::FaultPlan::parse("write_fixed:error=28", r, e)) << e;
    EXPECT_EQ(r.action.error, ENOSPC);
}

TEST(FaultPlan, RejectsMalformedSpecs) {
    for (const char* bad : {"",
                            "bogus:error=EIO",
                            "read",
                            "read:error=ENOTANERRNO",
                            "read:error=0",
                            "read:short=1",
                            "read:short=-0.1",
                            "read:delay=5parsecs",
                            "read:delay=2m",
                            "read:error=EIO:prob=0",
                            "read:error=EIO:prob=1.5",
                            "read:error=EIO:every=0",
                            "read:error=EIO:short=0.5",
                            "read:colour=blue",
                            "host-ring:short=0.5",
                            "register-files:delay=1ms",
                            "fsync:short=0.5",
                            "nop:error=EIO",
                            "read:delay=61s",
                            "host-ring:fail:prob=0.5",
                            "host-ring:fail:every=2"}) {
        iouring::FaultRule r;
        std::string e;
        EXPECT_FALSE(iouring::FaultPlan::parse(bad, r, e)) << bad;
        EXPECT_FALSE(e.empty()) << bad;
    }
}

// Decisions are a pure function of seed, ring, rule and sequence number.
TEST(FaultPlan, DecisionsArePureFunctionsOfTheSeed) {
    auto decisions = [](uint64_t seed, int ring) {
        iouring::FaultRule r;
        std::string e;
        EXPECT_TRUE(iouring::FaultPlan::parse("read:error=EIO:prob=0.3", r, e));
        iouring::FaultPlan plan({r}, seed);
        uint64_t matches[1] = {0};
        std::vector<int> out;
        for (uint64_t seq = 1; seq <= 400; ++seq)
            out.push_back(plan.decide(ring, seq, IORING_OP_READ, 16, matches).error);
        return out;
    };
    EXPECT_EQ(decisions(7, 1), decisions(7, 1));
    EXPECT_NE(decisions(7, 1), decisions(8, 1));
    EXPECT_NE(decisions(7, 1), decisions(7, 2));
    const auto d = decisions(7, 1);
    const long fired = std::count(d.begin(), d.end(), EIO);
    EXPECT_GT(fired, 400 * 0.3 * 0.6);  // prob=0.3 is honoured, roughly
    EXPECT_LT(fired, 400 * 0.3 * 1.4);
}

// --- Replay: 256 reads of 16 bytes, errors and shorts injected ----------------------------
constexpr unsigned kReads = 256;
constexpr unsigned kReadLen = 16;
int32_t g_read_res[kReads];
long long g_proc_errors = -1, g_proc_short = -1;

int prog_faulty_reads(int, char**) {
    const int fd = sys::open("/data", O_RDONLY);
    T_CHECK(fd >= 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(32, &ring, 0) == 0);
    char bufs[32][kReadLen];
    for (unsigned base = 0; base < kReads; base += 32) {
        std::memset(bufs, 0xEE, sizeof(bufs));
        for (unsigned k = 0; k < 32; ++k) {
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            T_CHECK(sqe != nullptr);
            io_uring_prep_read(sqe, fd, bufs[k], kReadLen, (base + k) * kReadLen);
            io_uring_sqe_set_data64(sqe, base + k);
        }
        T_CHECK(io_uring_submit(&ring) == 32);
        for (unsigned got = 0; got < 32; ++got) {
            io_uring_cqe* cqe = nullptr;
            T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
            const uint64_t i = cqe->user_data;
            T_CHECK(i >= base && i < base + 32);
            g_read_res[i] = cqe->res;
            // What arrived is exactly res bytes of the file; the rest is untouched.
            const char* b = bufs[i - base];
            const int n = cqe->res > 0 ? cqe->res : 0;
            for (int j = 0; j < n; ++j) T_CHECK(b[j] == pattern(i * kReadLen + j));
            for (unsigned j = n; j < kReadLen; ++j) T_CHECK(b[j] == static_cast<char>(0xEE));
            io_uring_cqe_seen(&ring, cqe);
        }
    }
    g_proc_errors = proc_iouring("FaultErrors");
    g_proc_short = proc_iouring("FaultShort");
    io_uring_queue_exit(&ring);
    return 0;
}

std::vector<int32_t> faulty_reads(uint64_t seed, const char* executor = "") {
    test::TempRoot root;
    root.write("data", pattern_file(kReads * kReadLen));
    std::memset(g_read_res, 0, sizeof(g_read_res));
    const auto config =
        with_faults({"read:error=EIO:prob=0.2", "read:short=0.25:prob=0.3"}, seed, executor);
    EXPECT_EQ(exit_code(test::run_program(root.path(), "reads", prog_faulty_reads, {}, config)), 0);
    return {g_read_res, g_read_res + kReads};
}

TEST(Faults, SameSeedReplaysTheSameCompletions) {
    const auto first = faulty_reads(42);
    const long errors = std::count(first.begin(), first.end(), -EIO);
    const long shorts = std::count(first.begin(), first.end(), 4);  // 25% of 16 bytes
    const long full = std::count(first.begin(), first.end(), static_cast<int32_t>(kReadLen));
    EXPECT_GT(errors, 0);
    EXPECT_GT(shorts, 0);
    EXPECT_GT(full, 0);
    EXPECT_EQ(errors + shorts + full, static_cast<long>(kReads));  // nothing else, nothing lost
    EXPECT_EQ(g_proc_errors, errors);
    EXPECT_EQ(g_proc_short, shorts);
    EXPECT_EQ(faulty_reads(42), first);
}

TEST(Faults, DifferentSeedInjectsDifferently) {
    EXPECT_NE(faulty_reads(1), faulty_reads(2));
}

TEST(Faults, BothExecutorsInjectTheSameFaults) {
    EXPECT_EQ(faulty_reads(5, "uring"), faulty_reads(5, "threads"));
}

// --- Short writes: the file holds exactly res bytes of each write --------------------------
constexpr unsigned kWrites = 12;
int32_t g_write_res[kWrites];

int prog_short_writev(int, char**) {
    const int fd = sys::open("/out", O_RDWR);
    T_CHECK(fd >= 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(16, &ring, 0) == 0);
    char src[kWrites][16];
    iovec iov[kWrites][2];
    for (unsigned i = 0; i < kWrites; ++i) {
        for (unsigned j = 0; j < 16; ++j) src[i][j] = pattern(i * 16 + j);
        iov[i][0] = {src[i], 10};
        iov[i][1] = {src[i] + 10, 6};
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_writev(sqe, fd, iov[i], 2, i * 32);  // a gap of 16 zeros after each
        io_uring_sqe_set_data64(sqe, i);
    }
    T_CHECK(io_uring_submit(&ring) == static_cast<int>(kWrites));
    for (unsigned got = 0; got < kWrites; ++got) {
        io_uring_cqe* cqe = nullptr;
        T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        g_write_res[cqe->user_data] = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
    }
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Faults, ShortWritevTransfersExactlyRes) {
    test::TempRoot root;
    root.write("out", std::string(kWrites * 32, '\0'));
    const auto config = with_faults({"writev:short=0.5:every=3"}, 0);
    ASSERT_EQ(exit_code(test::run_program(root.path(), "wv", prog_short_writev, {}, config)), 0);
    const std::string file = root.read("out");
    ASSERT_EQ(file.size(), kWrites * 32);
    for (unsigned i = 0; i < kWrites; ++i) {
        // every=3: the 3rd, 6th, ... writev of the ring keeps half of its 16 bytes.
        const int32_t want = (i + 1) % 3 == 0 ? 8 : 16;
        EXPECT_EQ(g_write_res[i], want) << i;
        for (unsigned j = 0; j < 32; ++j) {
            const char expect = static_cast<int32_t>(j) < want ? pattern(i * 16 + j) : '\0';
            EXPECT_EQ(file[i * 32 + j], expect) << i << "/" << j;
        }
    }
}

// --- An injected short read breaks a link chain, as a real one does -----------------------
int32_t g_chain_res[2];

int prog_short_read_chain(int, char**) {
    const int fd = sys::open("/data", O_RDWR);
    T_CHECK(fd >= 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    char buf[16];
    const char out[4] = {'x', 'y', 'z', 'w'};
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
    io_uring_sqe_set_flags(sqe, IOSQE_IO_LINK);
    io_uring_sqe_set_data64(sqe, 0);
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_write(sqe, fd, out, sizeof(out), 100);
    io_uring_sqe_set_data64(sqe, 1);
    T_CHECK(io_uring_submit(&ring) == 2);
    for (int got = 0; got < 2; ++got) {
        io_uring_cqe* cqe = nullptr;
        T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        g_chain_res[cqe->user_data] = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
    }
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Faults, InjectedShortReadBreaksTheLinkChain) {
    test::TempRoot root;
    root.write("data", pattern_file(64));
    const auto config = with_faults({"read:short=0.5"}, 0);
    ASSERT_EQ(exit_code(test::run_program(root.path(), "chain", prog_short_read_chain, {}, config)),
              0);
    EXPECT_EQ(g_chain_res[0], 8);
    EXPECT_EQ(g_chain_res[1], -ECANCELED);
    EXPECT_EQ(root.read("data"), pattern_file(64));  // the write never ran
}

// --- A delay holds one request back without blocking another ring -------------------------
long long g_other_ring_ms = -1, g_delayed_ms = -1, g_delayed_res = 1, g_cancel_res = 1,
          g_cancelled_res = 1;

long long ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0)
        .count();
}

int prog_delays(int, char**) {
    const int fd = sys::open("/data", O_RDWR);
    T_CHECK(fd >= 0);
    io_uring a, b;
    T_CHECK(io_uring_queue_init(4, &a, 0) == 0);
    T_CHECK(io_uring_queue_init(4, &b, 0) == 0);
    const auto t0 = std::chrono::steady_clock::now();
    io_uring_sqe* sqe = io_uring_get_sqe(&a);
    io_uring_prep_fsync(sqe, fd, 0);  // fsync:delay=300ms
    io_uring_sqe_set_data64(sqe, 1);
    T_CHECK(io_uring_submit(&a) == 1);
    // Ring b's read is not delayed and does not wait for ring a's fsync.
    char buf[8];
    sqe = io_uring_get_sqe(&b);
    io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
    T_CHECK(io_uring_submit(&b) == 1);
    io_uring_cqe* cqe = nullptr;
    T_CHECK(io_uring_wait_cqe(&b, &cqe) == 0);
    T_CHECK(cqe->res == 8);
    io_uring_cqe_seen(&b, cqe);
    g_other_ring_ms = ms_since(t0);
    T_CHECK(io_uring_peek_cqe(&a, &cqe) == -EAGAIN);  // still held back
    T_CHECK(io_uring_wait_cqe(&a, &cqe) == 0);
    g_delayed_res = cqe->res;
    g_delayed_ms = ms_since(t0);
    io_uring_cqe_seen(&a, cqe);
    // A delayed request can be cancelled while it waits.
    sqe = io_uring_get_sqe(&a);
    io_uring_prep_fsync(sqe, fd, 0);
    io_uring_sqe_set_data64(sqe, 2);
    sqe = io_uring_get_sqe(&a);
    io_uring_prep_cancel64(sqe, 2, 0);
    io_uring_sqe_set_data64(sqe, 3);
    T_CHECK(io_uring_submit(&a) == 2);
    for (int got = 0; got < 2; ++got) {
        T_CHECK(io_uring_wait_cqe(&a, &cqe) == 0);
        (cqe->user_data == 2 ? g_cancelled_res : g_cancel_res) = cqe->res;
        io_uring_cqe_seen(&a, cqe);
    }
    T_CHECK(proc_iouring("FaultDelays") == 2);
    io_uring_queue_exit(&a);
    io_uring_queue_exit(&b);
    return 0;
}

TEST(Faults, DelayHoldsOneRequestWithoutBlockingOtherRings) {
    test::TempRoot root;
    root.write("data", pattern_file(64));
    const auto config = with_faults({"fsync:delay=300ms"}, 0);
    ASSERT_EQ(exit_code(test::run_program(root.path(), "delays", prog_delays, {}, config)), 0);
    EXPECT_LT(g_other_ring_ms, 250);
    EXPECT_GE(g_delayed_ms, 300);
    EXPECT_EQ(g_delayed_res, 0);
    EXPECT_EQ(g_cancelled_res, -ECANCELED);
    EXPECT_EQ(g_cancel_res, 0);
}

// --- Registration fails with ENOMEM; the ring keeps working -------------------------------
int prog_register_enomem(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    void* mem =
        sys::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T_CHECK(mem != MAP_FAILED);
    iovec iov{mem, 4096};
    // every=2: the first registration succeeds, the second fails, the third succeeds.
    T_CHECK(io_uring_register_buffers(&ring, &iov, 1) == 0);
    T_CHECK(io_uring_unregister_buffers(&ring) == 0);
    T_CHECK(io_uring_register_buffers(&ring, &iov, 1) == -ENOMEM);
    T_CHECK(io_uring_unregister_buffers(&ring) == -ENXIO);  // nothing was registered
    T_CHECK(io_uring_register_buffers(&ring, &iov, 1) == 0);
    const int fd = sys::open("/data", O_RDONLY);
    T_CHECK(io_uring_register_files(&ring, &fd, 1) == 0);  // files are not targeted
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read_fixed(sqe, fd, mem, 8, 0, 0);
    T_CHECK(io_uring_submit(&ring) == 1);
    io_uring_cqe* cqe = nullptr;
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    T_CHECK(cqe->res == 8);
    io_uring_cqe_seen(&ring, cqe);
    T_CHECK(proc_iouring("FaultRegisterErrors") == 1);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Faults, RegisterBuffersFailsWithEnomem) {
    test::TempRoot root;
    root.write("data", pattern_file(64));
    const auto config = with_faults({"register-buffers:error=ENOMEM:every=2"}, 0);
    EXPECT_EQ(exit_code(test::run_program(root.path(), "reg", prog_register_enomem, {}, config)),
              0);
}

int prog_register_files_error(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    const int fd = sys::open("/data", O_RDONLY);
    T_CHECK(fd >= 0);
    T_CHECK(io_uring_register_files(&ring, &fd, 1) == -EMFILE);
    T_CHECK(io_uring_unregister_files(&ring) == -ENXIO);  // nothing was registered
    char buf[8];
    iovec iov{buf, sizeof(buf)};
    T_CHECK(io_uring_register_buffers(&ring, &iov, 1) == 0);  // buffers are not targeted
    T_CHECK(proc_iouring("FaultRegisterErrors") == 1);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Faults, RegisterFilesFailsWithTheInjectedErrno) {
    test::TempRoot root;
    root.write("data", pattern_file(64));
    const auto config = with_faults({"register-files:error=EMFILE"}, 0);
    EXPECT_EQ(
        exit_code(test::run_program(root.path(), "regf", prog_register_files_error, {}, config)),
        0);
}

// --- The host ring cannot be created: the real fallback to the thread pool ----------------
char g_executor[32], g_fallback[64];
long long g_host_failures = -1;

int prog_after_host_ring_failure(int, char**) {
    proc_iouring("Executor", g_executor, sizeof(g_executor));
    proc_iouring("ExecutorFallback", g_fallback, sizeof(g_fallback));
    g_host_failures = proc_iouring("FaultHostRingFailures");
    // Operations still run, on the thread pool.
    const int fd = sys::open("/data", O_RDONLY);
    io_uring ring;
    T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    char buf[16];
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
    T_CHECK(io_uring_submit(&ring) == 1);
    io_uring_cqe* cqe = nullptr;
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    T_CHECK(cqe->res == 16 && buf[0] == pattern(0));
    io_uring_cqe_seen(&ring, cqe);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Faults, HostRingFailureFallsBackToTheThreadPool) {
    test::TempRoot root;
    root.write("data", pattern_file(64));
    const auto config = with_faults({"host-ring:fail"}, 0, "uring");
    ASSERT_EQ(exit_code(test::run_program(root.path(), "fallback", prog_after_host_ring_failure, {},
                                          config)),
              0);
    EXPECT_STREQ(g_executor, "threads");
    EXPECT_STREQ(g_fallback, "ENOMEM (injected: host-ring)");
    EXPECT_EQ(g_host_failures, 1);
}

}  // namespace
