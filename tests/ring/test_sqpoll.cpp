// IORING_SETUP_SQPOLL toy rings: the kernel's poller consumes the SQ, userland never enters
// while it is awake, and IORING_SQ_NEED_WAKEUP / IORING_ENTER_SQ_WAKEUP bring it back.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#include "iouring/manager.h"
#include "kernel/process.h"
#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/io.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

char g_text[1 << 16];

double now_s() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A /proc file's text, read into g_text (nullptr if unreadable).
const char* read_proc(const char* path) {
    const int fd = sys::open(path, O_RDONLY);
    if (fd < 0) return nullptr;
    const ssize_t n = sys::read(fd, g_text, sizeof(g_text) - 1);
    sys::close(fd);
    if (n <= 0) return nullptr;
    g_text[n] = '\0';
    return g_text;
}

// This ring's `key` in /proc/self/iouring (-1 if absent).
long ring_counter(int ring_fd, const char* key) {
    if (read_proc("/proc/self/iouring") == nullptr) return -1;
    char want[32];
    std::snprintf(want, sizeof(want), "Fd:\t%d\n", ring_fd);
    const char* block = std::strstr(g_text, want);
    if (block == nullptr) return -1;
    char k[64];
    std::snprintf(k, sizeof(k), "\n%s:\t", key);
    const char* at = std::strstr(block, k);
    return at == nullptr ? -1 : std::atol(at + std::strlen(k));
}

// Reaps `n` CQEs by spinning on the CQ (no enter); each must have res 0. False on timeout.
bool spin_reap(io_uring* ring, unsigned n) {
    const double deadline = now_s() + 10;
    while (n > 0 && now_s() < deadline) {
        io_uring_cqe* cqe = nullptr;
        if (io_uring_peek_cqe(ring, &cqe) != 0) continue;
        if (cqe->res < 0) return false;
        io_uring_cqe_seen(ring, cqe);
        --n;
    }
    return n == 0;
}

int prog_sqpoll(int, char**) {
    // A ring whose poller stays awake for the whole test: no toy enter at all.
    io_uring busy;
    io_uring_params p{};
    p.flags = IORING_SETUP_SQPOLL;
    p.sq_thread_idle = 10000;
    T_CHECK(io_uring_queue_init_params(32, &busy, &p) == 0);
    T_CHECK(p.features & IORING_FEAT_SQPOLL_NONFIXED);
    const int file = sys::open("/data.txt", O_RDONLY);
    T_CHECK(file >= 0);
    static char buf[8][16];
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 8; ++i) {
            io_uring_sqe* sqe = io_uring_get_sqe(&busy);
            T_CHECK(sqe != nullptr);
            if (i % 2 == 0)
                io_uring_prep_nop(sqe);
            else
                io_uring_prep_read(sqe, file, buf[i], 5, 0);
        }
        T_CHECK(io_uring_submit(&busy) == 8);
        T_CHECK(spin_reap(&busy, 8));
    }
    T_CHECK(std::memcmp(buf[1], "hello", 5) == 0);
    T_CHECK(ring_counter(busy.ring_fd, "Submitted") == 400);
    T_CHECK(ring_counter(busy.ring_fd, "Enters") == 0);
    T_CHECK(ring_counter(busy.ring_fd, "SqThread") > 0);

    // A ring whose poller sleeps after 10 ms idle: NEED_WAKEUP shows, and a submit wakes it.
    io_uring sleepy;
    io_uring_params q{};
    q.flags = IORING_SETUP_SQPOLL;
    q.sq_thread_idle = 10;
    T_CHECK(io_uring_queue_init_params(8, &sleepy, &q) == 0);
    T_CHECK(sys::sleep_ns(300'000'000) == 0);
    T_CHECK(io_uring_load_acquire(sleepy.sq.kflags) & IORING_SQ_NEED_WAKEUP);
    io_uring_sqe* sqe = io_uring_get_sqe(&sleepy);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, 77);
    T_CHECK(io_uring_submit(&sleepy) == 1);  // enters with IORING_ENTER_SQ_WAKEUP
    T_CHECK(ring_counter(sleepy.ring_fd, "Enters") == 1);
    io_uring_cqe* cqe = nullptr;
    T_CHECK(io_uring_wait_cqe(&sleepy, &cqe) == 0);
    T_CHECK(cqe->user_data == 77 && cqe->res == 0);
    io_uring_cqe_seen(&sleepy, cqe);

    // Set up disabled (IORING_SETUP_R_DISABLED): the poller takes nothing until the ring is
    // enabled, and an enter is -EBADFD meanwhile.
    io_uring later;
    io_uring_params d{};
    d.flags = IORING_SETUP_SQPOLL | IORING_SETUP_R_DISABLED;
    d.sq_thread_idle = 10000;
    T_CHECK(io_uring_queue_init_params(8, &later, &d) == 0);
    sqe = io_uring_get_sqe(&later);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, 78);
    io_uring_submit(&later);  // publishes the tail (and enters only if NEED_WAKEUP shows)
    T_CHECK(sys::sleep_ns(50'000'000) == 0);
    T_CHECK(io_uring_cq_ready(&later) == 0);
    T_CHECK(ring_counter(later.ring_fd, "Submitted") == 0);
    T_CHECK(sys::io_uring_enter(later.ring_fd, 0, 0, IORING_ENTER_GETEVENTS, nullptr, 0) ==
            -EBADFD);
    T_CHECK(io_uring_enable_rings(&later) == 0);
    T_CHECK(io_uring_wait_cqe(&later, &cqe) == 0);
    T_CHECK(cqe->user_data == 78 && cqe->res == 0);
    io_uring_cqe_seen(&later, cqe);
    io_uring_queue_exit(&later);

    // Unsupported: pinning the shared poller per ring.
    io_uring pinned;
    io_uring_params r{};
    r.flags = IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF;
    T_CHECK(io_uring_queue_init_params(8, &pinned, &r) == -EINVAL);

    io_uring_queue_exit(&sleepy);
    io_uring_queue_exit(&busy);
    return 0;
}

// /proc/iouring's ActiveRings (-1 if unreadable).
long active_rings() {
    if (read_proc("/proc/iouring") == nullptr) return -1;
    const char* at = std::strstr(g_text, "ActiveRings:\t");
    return at == nullptr ? -1 : std::atol(at + std::strlen("ActiveRings:\t"));
}

// A kernel service thread (here standing in for the SQ poller) holds the last reference to a
// ring's file and lets it go: the ring is torn down on the manager's closer thread, not on the
// service thread, which may be inside work on that very ring and hold the locks teardown
// takes. (Found by fuzz_enter: the SQ poller resolved an SQE naming the ring's own fd as the
// process closed it, the teardown took the poller's lock, which the poller held, and the next
// SQPOLL ring's setup waited for that lock forever.)
int prog_ring_released_on_a_service_thread(int, char**) {
    kernel::Process& self = *kernel::current_process();
    const iouring::IoUringManager& manager = self.kernel().io_uring();
    const long before = active_rings();
    const uint64_t closed_before = manager.closer().closed();
    io_uring ring;
    io_uring_params p{};
    p.flags = IORING_SETUP_SQPOLL;
    T_CHECK(io_uring_queue_init_params(4, &ring, &p) == 0);
    T_CHECK(active_rings() == before + 1);
    auto file = self.fds().get(ring.ring_fd);
    T_CHECK(file.ok());
    kernel::FileRef last = std::move(file.value());
    io_uring_queue_exit(&ring);  // the fd goes; `last` keeps the ring
    T_CHECK(active_rings() == before + 1);
    std::thread service([&] {
        const iouring::RingTeardownDeferral deferral;
        last.reset();
    });
    service.join();
    const double deadline = now_s() + 10;
    while (manager.closer().closed() == closed_before && now_s() < deadline) sys::sleep_ns(100'000);
    T_CHECK(manager.closer().closed() == closed_before + 1);
    T_CHECK(active_rings() == before);

    // The poller still serves a new ring.
    T_CHECK(io_uring_queue_init_params(4, &ring, &p) == 0);
    io_uring_prep_nop(io_uring_get_sqe(&ring));
    T_CHECK(io_uring_submit(&ring) == 1);
    io_uring_cqe* cqe = nullptr;
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0 && cqe->res == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

}  // namespace

TEST(Ring, SqpollSubmitsWithoutEnterAndWakesUp) {
    test::TempRoot root;
    root.write("data.txt", "hello, sqpoll\n");
    EXPECT_EQ(exit_code(test::run_program(root.path(), "sqpoll", prog_sqpoll)), 0);
}

TEST(Ring, ARingFileReleasedOnAServiceThreadIsTornDownByTheCloser) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "release-on-service",
                                          prog_ring_released_on_a_service_thread)),
              0);
}
