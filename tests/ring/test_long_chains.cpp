// Long link chains and the kernel threads every process shares (issue 18, defects 6 and 7).
//
// A chain is completed by a loop, not by recursion: a chain of 32768 SQEs (the most one
// submission can hold) completes with every CQE in order, whichever thread runs it (the
// process itself, the timer thread behind a TIMEOUT, a host reactor or pool worker behind a
// READ), with no stack overflow (run these under the asan preset: its frames are the largest).
//
// One process's chain must not stall the threads it shares with the others: 32767 hard-linked
// ASYNC_CANCELs behind a TIMEOUT, on an SQPOLL ring, or behind a READ used to hold the timer
// thread, the SQ poller or a host reactor for 12-14 s (each cancel walked every live request).
// Another process's 50 ms TIMEOUT now completes within a few ms of its deadline.
#include <gtest/gtest.h>
#include <linux/time_types.h>

#include <atomic>
#include <chrono>
#include <cstring>

#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/io.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

constexpr unsigned kChain = 32768;  // IORING_MAX_ENTRIES: one full submission

long long now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Reaps `n` CQEs, waiting up to `seconds` for each; checks the i-th has user_data `first + i`
// and res `res_of(i)`. 0, or where it went wrong.
template <class ResOf>
int reap_in_order(io_uring* ring, unsigned n, uint64_t first, ResOf res_of, long seconds = 60) {
    for (unsigned i = 0; i < n; ++i) {
        __kernel_timespec ts{seconds, 0};
        io_uring_cqe* cqe = nullptr;
        if (io_uring_wait_cqe_timeout(ring, &cqe, &ts) != 0) {
            io::printf(2, "no CQE %u of %u\n", i, n);
            return 1;
        }
        if (cqe->user_data != first + i || cqe->res != res_of(i)) {
            io::printf(2, "CQE %u: user_data %llu res %d, expected %llu res %d\n", i,
                       static_cast<unsigned long long>(cqe->user_data), cqe->res,
                       static_cast<unsigned long long>(first + i), res_of(i));
            return 1;
        }
        io_uring_cqe_seen(ring, cqe);
    }
    return io_uring_cq_ready(ring) == 0 ? 0 : 1;
}

// The next SQE, with `flags` and `user_data` (null when the SQ is full).
io_uring_sqe* next_sqe(io_uring* ring, uint64_t user_data, unsigned flags) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (sqe == nullptr) return nullptr;
    io_uring_prep_nop(sqe);
    sqe->flags = static_cast<uint8_t>(flags);
    sqe->user_data = user_data;
    return sqe;
}

// --- A chain of 32768 ---------------------------------------------------------------------

// 32768 linked NOPs: completed on the process's own thread (inside its io_uring_enter).
int prog_nop_chain(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(kChain, &ring, 0) == 0);
    for (unsigned i = 0; i < kChain; ++i) {
        T_CHECK(next_sqe(&ring, i, i + 1 < kChain ? IOSQE_IO_LINK : 0) != nullptr);
    }
    T_CHECK(io_uring_submit(&ring) == static_cast<int>(kChain));
    T_CHECK(reap_in_order(&ring, kChain, 0, [](unsigned) { return 0; }) == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(LongChains, NopChainOf32768CompletesInOrder) {
    test::TempRoot root;
    kernel::KernelConfig config;
    // A small process stack: the recursion overflowed even 8 MB under ASan, 1 MB in release.
    config.stack_size = 1u << 20;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "nop-chain", prog_nop_chain, {}, config)),
              0);
}

// A TIMEOUT hard-linked to 32767 linked NOPs: the timer thread completes the TIMEOUT and lets
// the chain go.
int prog_timeout_chain(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(kChain, &ring, 0) == 0);
    __kernel_timespec ts{0, 1'000'000};
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_timeout(sqe, &ts, 0, 0);
    sqe->flags |= IOSQE_IO_HARDLINK;  // -ETIME does not break the chain
    sqe->user_data = 0;
    for (unsigned i = 1; i < kChain; ++i)
        T_CHECK(next_sqe(&ring, i, i + 1 < kChain ? IOSQE_IO_LINK : 0) != nullptr);
    T_CHECK(io_uring_submit(&ring) == static_cast<int>(kChain));
    T_CHECK(reap_in_order(&ring, kChain, 0, [](unsigned i) { return i == 0 ? -ETIME : 0; }) == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(LongChains, TimeoutHeadedChainOf32768CompletesInOrder) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "timeout-chain", prog_timeout_chain)), 0);
}

// A READ of a socket with no data yet, linked to 32767 NOPs: the data arrives after the
// submission, so a host reactor (uring) or a pool worker (threads) completes the READ.
int prog_read_chain(int, char**) {
    int srv = -1, cli = -1;
    T_CHECK(make_tcp_pair(&srv, &cli) == 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(kChain, &ring, 0) == 0);
    char buf[4];
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, srv, buf, sizeof buf, 0);
    sqe->flags |= IOSQE_IO_LINK;
    sqe->user_data = 0;
    for (unsigned i = 1; i < kChain; ++i)
        T_CHECK(next_sqe(&ring, i, i + 1 < kChain ? IOSQE_IO_LINK : 0) != nullptr);
    T_CHECK(io_uring_submit(&ring) == static_cast<int>(kChain));
    T_CHECK(sys::sleep_ns(10'000'000) == 0);  // the READ is parked by now
    T_CHECK(sys::send(cli, "data", 4, 0) == 4);
    T_CHECK(reap_in_order(&ring, kChain, 0, [](unsigned i) { return i == 0 ? 4 : 0; }) == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(LongChains, ReadHeadedChainOf32768CompletesInOrder) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "read-chain", prog_read_chain)), 0);
}

// --- A cancel storm against another process's TIMEOUT --------------------------------------

// Shared by the two toy processes of a test (one host address space).
std::atomic<int> g_victim_ready{0};
std::atomic<int> g_storm_started{0};
std::atomic<long long> g_victim_late_us{-1};
char g_victim_file[] = "/victim.txt";

// The victim: once the storm runs, a 50 ms TIMEOUT hard-linked to a READ of a file (the READ
// goes to the executor: a host reactor, or a pool worker). How late after its deadline the
// READ completed goes to g_victim_late_us. With "sqpoll", its ring is an SQPOLL ring too (the
// poller consumes its SQEs).
int victim(bool sqpoll) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, sqpoll ? IORING_SETUP_SQPOLL : 0) == 0);
    const int fd = sys::open(g_victim_file, O_RDONLY);
    T_CHECK(fd >= 0);
    g_victim_ready.store(1);
    while (g_storm_started.load() == 0) sys::sleep_ns(100'000);
    char buf[8];
    __kernel_timespec ts{0, 50'000'000};
    const long long t0 = now_us();
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_timeout(sqe, &ts, 0, 0);
    sqe->flags |= IOSQE_IO_HARDLINK;
    sqe->user_data = 1;
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fd, buf, 5, 0);
    sqe->user_data = 2;
    T_CHECK(io_uring_submit(&ring) == 2);
    T_CHECK(reap_in_order(&ring, 2, 1, [](unsigned i) { return i == 0 ? -ETIME : 5; }) == 0);
    g_victim_late_us.store(now_us() - t0 - 50'000);
    io_uring_queue_exit(&ring);
    return 0;
}

enum class StormHead { Timeout, Sqpoll, Read };

// The attacker: 32767 hard-linked ASYNC_CANCELs of a request that does not exist (each one
// -ENOENT), behind a 20 ms TIMEOUT, a NOP on an SQPOLL ring, or a READ of a socket that gets
// its data once the victim is ready. Then it reaps all of it.
int attacker(StormHead head, const char* self) {
    g_victim_ready.store(0);
    g_storm_started.store(0);
    g_victim_late_us.store(-1);
    int srv = -1, cli = -1;
    if (head == StormHead::Read) T_CHECK(make_tcp_pair(&srv, &cli) == 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(kChain, &ring,
                                head == StormHead::Sqpoll ? IORING_SETUP_SQPOLL : 0) == 0);
    const char* argv[] = {self, "victim", head == StormHead::Sqpoll ? "sqpoll" : "plain", nullptr};
    const pid_t child = sys::spawn(self, argv);
    T_CHECK(child > 0);
    while (g_victim_ready.load() == 0) sys::sleep_ns(100'000);

    __kernel_timespec ts{0, 20'000'000};
    char buf[1];
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (head == StormHead::Timeout)
        io_uring_prep_timeout(sqe, &ts, 0, 0);
    else if (head == StormHead::Read)
        io_uring_prep_read(sqe, srv, buf, 1, 0);
    else
        io_uring_prep_nop(sqe);
    sqe->flags |= IOSQE_IO_HARDLINK;
    sqe->user_data = 0;
    for (unsigned i = 1; i < kChain; ++i) {
        sqe = io_uring_get_sqe(&ring);
        T_CHECK(sqe != nullptr);
        io_uring_prep_cancel64(sqe, 0xdead0000u + i, 0);
        sqe->user_data = i;
        if (i + 1 < kChain) sqe->flags |= IOSQE_IO_HARDLINK;
    }
    T_CHECK(io_uring_submit(&ring) == static_cast<int>(kChain));
    if (head == StormHead::Read) {
        T_CHECK(sys::sleep_ns(10'000'000) == 0);  // parked by now: its reactor completes it
        T_CHECK(sys::send(cli, "x", 1, 0) == 1);
    }
    g_storm_started.store(1);
    int status = 0;
    T_CHECK(sys::waitpid(child, &status, 0) == child);
    T_CHECK(exit_code(status) == 0);
    const int head_res = head == StormHead::Timeout ? -ETIME : head == StormHead::Read ? 1 : 0;
    T_CHECK(reap_in_order(&ring, kChain, 0,
                          [&](unsigned i) { return i == 0 ? head_res : -ENOENT; }) == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

template <StormHead kHead>
int prog_storm(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "victim") == 0)
        return victim(argc > 2 && std::strcmp(argv[2], "sqpoll") == 0);
    return attacker(kHead, argv[0]);
}

// The victim's READ completes this long after its TIMEOUT's deadline at most (the issue asks
// for 100 ms; the bound leaves room for a loaded 2-CPU machine, the figure is printed).
constexpr long long kLateBoundUs = 500'000;

void run_storm(const char* name, int (*prog)(int, char**)) {
    test::TempRoot root;
    root.write("victim.txt", "hello");
    kernel::KernelConfig config;
    // One host reactor and one pool worker: the attacker's chain and the victim's READ share
    // them (with more, the victim could be served by another one and never notice).
    config.host_rings = 1;
    config.async_workers = 1;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(exit_code(test::run_program(root.path(), name, prog, {}, config)), 0);
    const long long late = g_victim_late_us.load();
    std::printf(
        "[ figure   ] %s: the victim's 50 ms TIMEOUT->READ completed %.1f ms after its "
        "deadline (whole run %.0f ms)\n",
        name, static_cast<double>(late) / 1000.0,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    EXPECT_GE(late, 0);
    EXPECT_LT(late, kLateBoundUs);
}

TEST(LongChains, CancelStormBehindATimeoutDoesNotStallTheTimerThread) {
    run_storm("storm-timeout", prog_storm<StormHead::Timeout>);
}

TEST(LongChains, CancelStormOnAnSqpollRingDoesNotStallThePoller) {
    run_storm("storm-sqpoll", prog_storm<StormHead::Sqpoll>);
}

TEST(LongChains, CancelStormBehindAReadDoesNotStallItsReactor) {
    run_storm("storm-read", prog_storm<StormHead::Read>);
}

}  // namespace
