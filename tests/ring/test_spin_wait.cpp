// Polling before sleeping (iouring/spin_wait.h, toyos run --spin-us): the gate's capacity,
// spin_until's budget, and the counters that say where waits ended (/proc/iouring).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "iouring/spin_wait.h"
#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/io.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

TEST(SpinGate, OneSpinnerPerCpuAndNoneOnOneCpu) {
    iouring::SpinGate one(1);
    EXPECT_FALSE(one.try_enter());
    iouring::SpinGate two(2);
    EXPECT_TRUE(two.try_enter());
    EXPECT_TRUE(two.try_enter());
    EXPECT_FALSE(two.try_enter());
    two.leave();
    EXPECT_TRUE(two.try_enter());
}

TEST(SpinBackoff, AMissSleepsTheNextWaitsTwiceAsManyEachTimeAndAHitEndsIt) {
    iouring::SpinBackoff b;
    auto skipped_before_next_poll = [&] {
        unsigned n = 0;
        while (!b.should_spin()) ++n;
        return n;
    };
    EXPECT_EQ(skipped_before_next_poll(), 0u);
    b.miss();
    EXPECT_EQ(skipped_before_next_poll(), 1u);
    b.miss();
    EXPECT_EQ(skipped_before_next_poll(), 2u);
    b.miss();
    EXPECT_EQ(skipped_before_next_poll(), 4u);
    for (int i = 0; i < 10; ++i) b.miss();
    EXPECT_EQ(skipped_before_next_poll(), iouring::SpinBackoff::kMaxPenalty);
    b.hit();
    b.miss();  // after a hit the backoff starts over
    EXPECT_EQ(skipped_before_next_poll(), 1u);
}

TEST(SpinUntil, StopsWhenReadyOrWhenTheBudgetRunsOut) {
    if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one CPU: nobody spins";
    EXPECT_FALSE(iouring::spin_until(0, [] { return true; }));  // no budget: sleep at once
    const uint64_t t0 = iouring::monotonic_ns();
    EXPECT_FALSE(iouring::spin_until(2'000'000, [] { return false; }));
    EXPECT_GE(iouring::monotonic_ns() - t0, 2'000'000u);
    std::atomic<bool> flag{false};
    std::thread setter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        flag.store(true);
    });
    EXPECT_TRUE(iouring::spin_until(10'000'000'000, [&] { return flag.load(); }));
    setter.join();
}

constexpr int kReads = 2000;
long long g_spun = -1, g_slept = -1, g_spin_hits = -1, g_spin_micros = -1;

// One read at a time, each waited for: every wait is counted as spun or slept, unless its
// CQE was already there.
int prog_one_read_at_a_time(int, char**) {
    const int fd = sys::open("/data", O_RDONLY);
    T_CHECK(fd >= 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    char buf[512];
    for (int i = 0; i < kReads; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
        io_uring_cqe* cqe = nullptr;
        T_CHECK(io_uring_submit_and_wait(&ring, 1) == 1);
        T_CHECK(io_uring_peek_cqe(&ring, &cqe) == 0);
        T_CHECK(cqe->res == static_cast<int>(sizeof(buf)));
        io_uring_cqe_seen(&ring, cqe);
    }
    g_spun = proc_iouring("ToyWaitsSpun");
    g_slept = proc_iouring("ToyWaitsSlept");
    g_spin_hits = proc_iouring("HostReactorSpinHits");
    g_spin_micros = proc_iouring("SpinMicros");
    io_uring_queue_exit(&ring);
    return 0;
}

int run_reads(uint64_t spin_ns) {
    test::TempRoot root;
    root.write("data", std::string(4096, 'x'));
    kernel::KernelConfig config;
    config.spin_ns = spin_ns;
    return exit_code(test::run_program(root.path(), "reads", prog_one_read_at_a_time, {}, config));
}

bool uring_executor() {
    const char* e = std::getenv("TOYOS_EXECUTOR");
    return e == nullptr || std::strcmp(e, "threads") != 0;
}

TEST(SpinWait, NoBudgetMeansNobodyPolls) {
    ASSERT_EQ(run_reads(0), 0);
    EXPECT_EQ(g_spin_micros, 0);
    EXPECT_EQ(g_spun, 0);
    EXPECT_EQ(g_spin_hits, 0);
    EXPECT_LE(g_slept, kReads);
}

TEST(SpinWait, WaitsAndTheReactorFindTheirWorkWhilePolling) {
    if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one CPU: nobody spins";
    // A budget far above a read's time (a wait sleeps only when the gate is full), yet short
    // enough that both reactors' first idle polls at boot, which hold the gate's two slots on
    // two CPUs for the whole budget, end long before the reads do.
    ASSERT_EQ(run_reads(5'000'000), 0);
    EXPECT_EQ(g_spin_micros, 5'000);
    EXPECT_GT(g_spun, 0);
    EXPECT_LE(g_spun + g_slept, kReads);
    if (uring_executor())
        EXPECT_GT(g_spin_hits, 0);  // the reactor polled for the next read
    else
        EXPECT_EQ(g_spin_hits, 0);  // no reactor
}

}  // namespace
