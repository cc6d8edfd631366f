// POLL_ADD and POLL_REMOVE on toyos's own files, both executors. Their Linux semantics on
// regular files and sockets are the differential scenario `poll`; here: a poll that waits
// (an eventfd, blocking or O_NONBLOCK), a kernel object, and what toyos refuses (ABI header).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>

#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

int submit_one(io_uring* ring) {
    if (io_uring_submit(ring) != 1) return -9999;
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(ring, &cqe) != 0) return -9998;
    const int res = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    return res;
}

// No CQE within 20 ms: the poll is waiting.
bool nothing_within_20ms(io_uring* ring) {
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{0, 20'000'000};
    return io_uring_wait_cqe_timeout(ring, &cqe, &ts) == -ETIME;
}

int prog_poll_waits(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    for (int flags : {0, static_cast<int>(EFD_NONBLOCK)}) {  // O_NONBLOCK or not, a poll waits
        const int efd = sys::eventfd(0, flags);
        T_CHECK(efd >= 0);
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_poll_add(sqe, efd, POLLIN);
        io_uring_sqe_set_data64(sqe, 1);
        T_CHECK(io_uring_submit(&ring) == 1);
        T_CHECK(nothing_within_20ms(&ring));
        const uint64_t add = 1;
        T_CHECK(sys::write(efd, &add, sizeof(add)) == sizeof(add));
        io_uring_cqe* cqe = nullptr;
        T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        T_CHECK(cqe->user_data == 1 && cqe->res == POLLIN);
        io_uring_cqe_seen(&ring, cqe);
        // Ready now: POLLOUT too, at once.
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_poll_add(sqe, efd, POLLIN | POLLOUT);
        T_CHECK(submit_one(&ring) == (POLLIN | POLLOUT));
        // A waiting poll removed: -ECANCELED for it, 0 for the remove.
        uint64_t drained = 0;
        T_CHECK(sys::read(efd, &drained, sizeof(drained)) == sizeof(drained) && drained == 1);
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_poll_add(sqe, efd, POLLIN);
        io_uring_sqe_set_data64(sqe, 2);
        T_CHECK(io_uring_submit(&ring) == 1);
        T_CHECK(nothing_within_20ms(&ring));
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_poll_remove(sqe, 2);
        io_uring_sqe_set_data64(sqe, 3);
        T_CHECK(io_uring_submit(&ring) == 1);
        int seen = 0;
        for (int i = 0; i < 2; ++i) {
            T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
            if (cqe->user_data == 2) {
                T_CHECK(cqe->res == -ECANCELED);
                seen |= 1;
            } else {
                T_CHECK(cqe->user_data == 3 && cqe->res == 0);
                seen |= 2;
            }
            io_uring_cqe_seen(&ring, cqe);
        }
        T_CHECK(seen == 3);
        sys::close(efd);
    }
    io_uring_queue_exit(&ring);
    return 0;
}

int prog_poll_kernel_objects_and_refusals(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    // A /proc file is always readable, like a regular file.
    const int proc = sys::open("/proc/iouring", O_RDONLY);
    T_CHECK(proc >= 0);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_poll_add(sqe, proc, POLLIN | POLLPRI);
    T_CHECK(submit_one(&ring) == POLLIN);
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_poll_add(sqe, proc, POLLPRI);
    T_CHECK(submit_one(&ring) == -EINVAL);  // it never will be ready for that
    // Deliberate differences (ABI header): a ring fd cannot be polled; multishot and updates
    // in place are refused.
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_poll_add(sqe, ring.ring_fd, POLLIN);
    T_CHECK(submit_one(&ring) == -EINVAL);
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_poll_add(sqe, proc, POLLIN);
    sqe->len = IORING_POLL_ADD_MULTI;
    T_CHECK(submit_one(&ring) == -EINVAL);
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_poll_remove(sqe, 1);
    sqe->len = IORING_POLL_UPDATE_EVENTS;
    sqe->poll32_events = POLLIN;
    T_CHECK(submit_one(&ring) == -EINVAL);
    // An IOPOLL ring takes no poll (Linux: io_issue_def.iopoll is not set for it).
    io_uring iopoll;
    T_CHECK(io_uring_queue_init(4, &iopoll, IORING_SETUP_IOPOLL) == 0);
    sqe = io_uring_get_sqe(&iopoll);
    io_uring_prep_poll_add(sqe, proc, POLLIN);
    T_CHECK(submit_one(&iopoll) == -EINVAL);
    io_uring_queue_exit(&iopoll);
    sys::close(proc);
    io_uring_queue_exit(&ring);
    return 0;
}

// A process that exits with a poll still waiting: the poll is cancelled with its ring, and
// the kernel keeps running for the next program.
int prog_exit_with_poll_waiting(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    const int efd = sys::eventfd(0, 0);
    for (int i = 0; i < 4; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_poll_add(sqe, efd, POLLIN);
    }
    T_CHECK(io_uring_submit(&ring) == 4);
    return 0;  // no queue_exit: the process's exit closes the ring
}

}  // namespace

TEST(Poll, WaitsForAnEventfdAndIsRemoved) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "poll", prog_poll_waits)), 0);
}

TEST(Poll, KernelObjectsAndWhatToyosRefuses) {
    test::TempRoot root;
    EXPECT_EQ(
        exit_code(test::run_program(root.path(), "poll", prog_poll_kernel_objects_and_refusals)),
        0);
}

TEST(Poll, ExitWithPollsWaiting) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "poll", prog_exit_with_poll_waiting)), 0);
    EXPECT_EQ(exit_code(test::run_program(root.path(), "poll", prog_exit_with_poll_waiting)), 0);
}
