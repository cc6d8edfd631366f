// Calls that wait for a peer (console pipes, sockets) must stay killable and must never hold
// a thread other processes need: a kill ends a read of a silent console pipe or a write to a
// full one; a ring READ of the console never blocks io_uring_enter nor takes the pool's
// workers; idle async-routed receivers leave the pool to everyone else. Each test runs on
// both executors (the .uring and .threads suffixes).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "kernel/log.h"
#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/liburing.h"

using namespace toyos;
using Clock = std::chrono::steady_clock;

namespace {

long ms_since(Clock::time_point t0) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

// Puts a pipe in place of this test process's fd `console_fd` (what the kernel hands its
// first process as fds 0-2) for the scope, and puts the original back after. Nobody writes to
// (or reads from) the pipe unless the test says so. Once `rescue_after` has passed, a helper
// thread feeds (or drains) it, so that a kernel that wrongly blocks in the host returns and
// the test fails on its time bound instead of hanging.
class ConsolePipe {
  public:
    ConsolePipe(int console_fd, std::chrono::milliseconds rescue_after) : console_fd_(console_fd) {
        EXPECT_EQ(::pipe2(pipe_, O_CLOEXEC), 0);
        saved_ = ::dup(console_fd_);
        ::dup2(console_fd_ == 0 ? pipe_[0] : pipe_[1], console_fd_);
        rescuer_ = std::thread([this, rescue_after] {
            const auto until = Clock::now() + rescue_after;
            while (!stop_ && Clock::now() < until)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            char buf[65536] = {};
            while (!stop_) {
                rescued_ = true;
                if (console_fd_ == 0)
                    (void)!::write(pipe_[1], "x", 1);
                else
                    (void)!::read(pipe_[0], buf, sizeof(buf));
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
    }
    ~ConsolePipe() {
        stop_ = true;
        rescuer_.join();
        ::dup2(saved_, console_fd_);
        ::close(saved_);
        ::close(pipe_[0]);
        ::close(pipe_[1]);
    }
    int write_end() const { return pipe_[1]; }
    // True if the helper had to feed or drain the pipe.
    bool rescued() const { return rescued_; }

  private:
    int console_fd_;
    int pipe_[2] = {-1, -1};
    int saved_ = -1;
    std::atomic<bool> stop_{false}, rescued_{false};
    std::thread rescuer_;
};

constexpr auto kRescueAfter = std::chrono::milliseconds(3000);

// How long the test programs took, for the host side to check and report.
std::atomic<long> g_elapsed_ms{-1};
std::atomic<long> g_submit_ms{-1};
std::atomic<bool> g_want_data{false};

// Spawns `program`, lets it block, kills it with 9 and waits (at most 2 s, polling) for it.
int spawn_block_and_kill(const char* program) {
    const char* argv[] = {program, nullptr};
    const pid_t child = sys::spawn(program, argv);
    T_CHECK(child > 0);
    sys::sleep_ns(100'000'000);
    T_CHECK(sys::kill(child, 9) == 0);
    const auto t0 = Clock::now();
    int status = 0;
    pid_t got = 0;
    while ((got = sys::waitpid(child, &status, WNOHANG)) == 0 && ms_since(t0) < 2000)
        sys::sleep_ns(5'000'000);
    g_elapsed_ms = ms_since(t0);
    if (got == 0) got = sys::waitpid(child, &status, 0);  // (after the rescue)
    T_CHECK(got == child);
    T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == 9);
    return 0;
}

int prog_console_reader(int, char**) {
    char c;
    sys::read(0, &c, 1);  // nobody writes
    return 5;
}

int prog_kill_console_reader(int, char**) {
    return spawn_block_and_kill("console-reader");
}

int prog_console_writer(int, char**) {
    static char chunk[65536];
    for (;;) sys::write(1, chunk, sizeof(chunk));  // nobody reads: the pipe fills
}

int prog_kill_console_writer(int, char**) {
    return spawn_block_and_kill("console-writer");
}

int run_with(std::vector<std::pair<const char*, kernel::ProgramMain>> programs,
             kernel::KernelConfig config = {}) {
    test::TempRoot root;
    root.write("f.txt", "0123456789");
    kernel::init_logging(kernel::log_level_from_env("warn"));
    kernel::ProgramCatalog catalog;
    for (auto& [name, main] : programs) catalog.add_builtin(name, main, "test program");
    config.root = root.path();
    auto k = kernel::Kernel::boot(config, std::move(catalog));
    if (k.is_error()) return -1;
    auto st = k.value()->run(programs[0].first, {programs[0].first});
    return st.ok() ? st.value() : -st.error();
}

}  // namespace

// fds 0-2 are the host's own, blocking; a read of a silent console pipe blocked in the host
// and outlived kill -9 (and then the kernel's exit aborted, status 70).
TEST(Blocking, KillEndsAReadOfASilentConsolePipe) {
    g_elapsed_ms = -1;
    ConsolePipe console(0, kRescueAfter);
    const int st =
        run_with({{"killer", prog_kill_console_reader}, {"console-reader", prog_console_reader}});
    EXPECT_EQ(exit_code(st), 0);
    EXPECT_FALSE(console.rescued());
    EXPECT_GE(g_elapsed_ms.load(), 0);
    EXPECT_LT(g_elapsed_ms.load(), 1000) << "the killed reader took that long to die";
    std::printf("killed console reader reaped after %ld ms\n", g_elapsed_ms.load());
}

TEST(Blocking, KillEndsAWriteToAFullConsolePipe) {
    g_elapsed_ms = -1;
    int st = -1;
    bool rescued = false;
    {
        ConsolePipe console(1, kRescueAfter);
        st = run_with(
            {{"killer", prog_kill_console_writer}, {"console-writer", prog_console_writer}});
        rescued = console.rescued();
    }
    EXPECT_EQ(exit_code(st), 0);
    EXPECT_FALSE(rescued);
    EXPECT_GE(g_elapsed_ms.load(), 0);
    EXPECT_LT(g_elapsed_ms.load(), 1000) << "the killed writer took that long to die";
}

// --- a ring READ of the console ---------------------------------------------------------------

// A ring OPENAT from a process of its own, timed.
int prog_ring_opener(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    const auto t0 = Clock::now();
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_openat(sqe, AT_FDCWD, "/f.txt", O_RDONLY, 0);
    T_CHECK(io_uring_submit(&ring) == 1);
    __kernel_timespec ts{5, 0};
    io_uring_cqe* cqe = nullptr;
    const int r = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
    g_elapsed_ms = ms_since(t0);
    T_CHECK(r == 0);
    T_CHECK(cqe->res >= 0);
    io_uring_cqe_seen(&ring, cqe);
    io_uring_queue_exit(&ring);
    return 0;
}

int run_opener() {
    const char* argv[] = {"opener", nullptr};
    const pid_t p = sys::spawn("opener", argv);
    T_CHECK(p > 0);
    int status = 0;
    T_CHECK(sys::waitpid(p, &status, 0) == p);
    return exit_code(status);
}

// One READ of fd 0 (a pipe nobody writes to yet), then 16 with IOSQE_ASYNC; another process's
// OPENAT must still complete; then data written to the pipe reaches one of the READs.
int prog_ring_console_reads(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(32, &ring, 0) == 0);
    static char bufs[17][8];
    auto t0 = Clock::now();
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, 0, bufs[0], sizeof(bufs[0]), ~0ull);
    sqe->user_data = 0;
    T_CHECK(io_uring_submit(&ring) == 1);
    long submit_ms = ms_since(t0);
    t0 = Clock::now();
    for (int i = 1; i <= 16; ++i) {
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_read(sqe, 0, bufs[i], sizeof(bufs[i]), ~0ull);
        sqe->flags |= IOSQE_ASYNC;
        sqe->user_data = static_cast<uint64_t>(i);
    }
    T_CHECK(io_uring_submit(&ring) == 16);
    g_submit_ms = std::max(submit_ms, ms_since(t0));
    T_CHECK(io_uring_cq_ready(&ring) == 0);  // nothing to read: all wait
    T_CHECK(run_opener() == 0);
    const long opener_ms = g_elapsed_ms.load();
    // Now real data: one READ gets it, whole.
    g_want_data = true;
    __kernel_timespec ts{5, 0};
    io_uring_cqe* cqe = nullptr;
    T_CHECK(io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0);
    T_CHECK(cqe->res == 5);
    T_CHECK(cqe->user_data <= 16);
    T_CHECK(std::memcmp(bufs[cqe->user_data], "hello", 5) == 0);
    io_uring_cqe_seen(&ring, cqe);
    g_elapsed_ms = opener_ms;
    io_uring_queue_exit(&ring);  // cancels the 16 still waiting
    return 0;
}

TEST(Blocking, RingReadsOfTheConsoleNeitherBlockTheSubmitterNorHoldThePool) {
    g_elapsed_ms = g_submit_ms = -1;
    g_want_data = false;
    ConsolePipe console(0, kRescueAfter);
    std::thread feeder([&] {
        const auto t0 = Clock::now();
        while (!g_want_data && Clock::now() - t0 < std::chrono::seconds(30))
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (g_want_data) (void)!::write(console.write_end(), "hello", 5);
    });
    kernel::KernelConfig config;
    config.async_workers = 2;
    const int st = run_with(
        {{"console-reads", prog_ring_console_reads}, {"opener", prog_ring_opener}}, config);
    g_want_data = true;
    feeder.join();
    EXPECT_EQ(exit_code(st), 0);
    EXPECT_FALSE(console.rescued());
    EXPECT_GE(g_submit_ms.load(), 0);
    EXPECT_LT(g_submit_ms.load(), 500) << "io_uring_enter waited for the console";
    EXPECT_GE(g_elapsed_ms.load(), 0);
    EXPECT_LT(g_elapsed_ms.load(), 1000) << "the other process's OPENAT waited that long";
    std::printf("submit %ld ms, other process's OPENAT %ld ms\n", g_submit_ms.load(),
                g_elapsed_ms.load());
}

// --- idle async-routed receivers ---------------------------------------------------------------

std::atomic<int> g_receivers_ready{0};

int prog_idle_receiver(int, char**) {
    const int fd = sys::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    T_CHECK(sys::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    g_receivers_ready.fetch_add(1);
    char buf[16];
    sys::recvfrom(fd, buf, sizeof(buf), 0, nullptr, nullptr);  // nobody sends
    return 5;
}

int prog_receivers_and_opener(int, char**) {
    const char* argv[] = {"receiver", nullptr};
    const pid_t r1 = sys::spawn("receiver", argv);
    const pid_t r2 = sys::spawn("receiver", argv);
    T_CHECK(r1 > 0 && r2 > 0);
    while (g_receivers_ready.load() < 2) sys::sleep_ns(1'000'000);
    sys::sleep_ns(100'000'000);  // both are in recvfrom now
    T_CHECK(run_opener() == 0);
    for (pid_t r : {r1, r2}) {
        T_CHECK(sys::kill(r, 9) == 0);
        int status = 0;
        T_CHECK(sys::waitpid(r, &status, 0) == r);
        T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == 9);
    }
    return 0;
}

TEST(Blocking, IdleAsyncRoutedReceiversLeaveThePoolToOthers) {
    g_elapsed_ms = -1;
    g_receivers_ready = 0;
    kernel::KernelConfig config;
    config.async_workers = 2;
    kernel::SyscallHandlerRegistry registry;
    kernel::register_all_syscalls(registry);
    ASSERT_EQ(kernel::parse_routes("recvfrom=async", registry, config.routes), "");
    const int st = run_with({{"main", prog_receivers_and_opener},
                             {"receiver", prog_idle_receiver},
                             {"opener", prog_ring_opener}},
                            config);
    EXPECT_EQ(exit_code(st), 0);
    EXPECT_GE(g_elapsed_ms.load(), 0);
    EXPECT_LT(g_elapsed_ms.load(), 1000) << "the OPENAT waited that long behind the receivers";
    std::printf("OPENAT beside two idle async recvfrom: %ld ms\n", g_elapsed_ms.load());
}

// --- ring file operations beside long work on the pool ------------------------------------------

// Every general worker busy with someone's long call (here: work that waits for the test to
// release it, at most 10 s): a ring OPENAT takes the short lane and completes anyway.
TEST(Blocking, RingFileOperationsDoNotQueueBehindLongWork) {
    g_elapsed_ms = -1;
    test::TempRoot root;
    root.write("f.txt", "0123456789");
    kernel::init_logging(kernel::log_level_from_env("warn"));
    kernel::ProgramCatalog catalog;
    catalog.add_builtin("opener", prog_ring_opener, "test program");
    kernel::KernelConfig config;
    config.root = root.path();
    config.async_workers = 2;
    auto k = kernel::Kernel::boot(config, std::move(catalog));
    ASSERT_TRUE(k.ok());
    std::atomic<bool> release{false};
    std::vector<kernel::Ticket> long_calls;
    for (size_t i = 0; i < k.value()->async().workers(); ++i) {
        auto t = k.value()->async().submit([&release]() -> long {
            const auto t0 = Clock::now();
            while (!release && Clock::now() - t0 < std::chrono::seconds(10))
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return 0;
        });
        ASSERT_TRUE(t.ok());
        long_calls.push_back(t.value());
    }
    auto st = k.value()->run("opener", {"opener"});
    release = true;
    for (auto& t : long_calls) (void)t.wait();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(exit_code(st.value()), 0);
    EXPECT_GE(g_elapsed_ms.load(), 0);
    EXPECT_LT(g_elapsed_ms.load(), 1000) << "the OPENAT waited that long behind the pool's work";
    std::printf("OPENAT with every general worker busy: %ld ms\n", g_elapsed_ms.load());
}

// --- an async-routed call that waits keeps its progress ------------------------------------------

std::atomic<int> g_port{0};

int prog_split_sender(int, char**) {
    const int fd = sys::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(g_port.load()));
    T_CHECK(sys::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);  // async-routed
    T_CHECK(sys::send(fd, "01234", 5, 0) == 5);
    sys::sleep_ns(100'000'000);  // the receiver waits (off the pool) for the rest
    T_CHECK(sys::send(fd, "56789", 5, 0) == 5);
    sys::close(fd);
    return 0;
}

int prog_waitall_receiver(int, char**) {
    const int lfd = sys::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    T_CHECK(sys::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    socklen_t len = sizeof(a);
    T_CHECK(sys::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    T_CHECK(sys::listen(lfd, 1) == 0);
    g_port = ntohs(a.sin_port);
    const char* argv[] = {"sender", nullptr};
    const pid_t sender = sys::spawn("sender", argv);
    T_CHECK(sender > 0);
    const int conn = sys::accept(lfd, nullptr, nullptr);  // async-routed, waits
    T_CHECK(conn >= 0);
    char buf[16] = {};
    T_CHECK(sys::recvfrom(conn, buf, 10, MSG_WAITALL, nullptr, nullptr) == 10);
    T_CHECK(std::memcmp(buf, "0123456789", 10) == 0);
    int status = 0;
    T_CHECK(sys::waitpid(sender, &status, 0) == sender);
    T_CHECK(exit_code(status) == 0);
    return 0;
}

TEST(Blocking, AsyncRoutedCallsThatWaitKeepTheirProgress) {
    kernel::KernelConfig config;
    config.async_workers = 2;
    kernel::SyscallHandlerRegistry registry;
    kernel::register_all_syscalls(registry);
    ASSERT_EQ(
        kernel::parse_routes("recvfrom=async,accept=async,connect=async", registry, config.routes),
        "");
    EXPECT_EQ(exit_code(run_with(
                  {{"receiver", prog_waitall_receiver}, {"sender", prog_split_sender}}, config)),
              0);
}
