// Regressions found by the fuzzers (fuzz/): each test replays, by hand, the shape of an input
// that once made the ring lose a request, hang at close or touch freed memory.
#include <gtest/gtest.h>
#include <linux/time_types.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include <cstring>

#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/io.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

// Waits up to 2 s for one CQE; -ETIME if none came (the old bugs lost the request instead).
int next_cqe(io_uring* ring, uint64_t* user_data, int* res) {
    __kernel_timespec ts{2, 0};
    io_uring_cqe* cqe = nullptr;
    const int r = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
    if (r < 0) return r;
    *user_data = cqe->user_data;
    *res = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    return 0;
}

// A TIMEOUT hard-linked to a NOP, cancelled by ASYNC_CANCEL: the hard link still runs the NOP
// (as on Linux). The cancelled timeout's completion used to hand the NOP to a list nobody
// issued, so the NOP never completed and the ring could not close.
int prog_hardlinked_timeout_cancel(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    __kernel_timespec ts{10, 0};
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_timeout(sqe, &ts, 0, 0);
    sqe->flags |= IOSQE_IO_HARDLINK;
    sqe->user_data = 1;
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_nop(sqe);
    sqe->user_data = 2;
    T_CHECK(io_uring_submit(&ring) == 2);
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_cancel64(sqe, 1, 0);
    sqe->user_data = 3;
    T_CHECK(io_uring_submit(&ring) == 1);
    int res_of[4] = {1, 1, 1, 1};
    for (int i = 0; i < 3; ++i) {
        uint64_t ud = 0;
        int res = 0;
        T_CHECK(next_cqe(&ring, &ud, &res) == 0);
        T_CHECK(ud >= 1 && ud <= 3);
        res_of[ud] = res;
    }
    T_CHECK(res_of[1] == -ECANCELED);
    T_CHECK(res_of[2] == 0);
    T_CHECK(res_of[3] == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(RingRegression, HardlinkedTimeoutCancelledStillRunsItsLink) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "hardlink-cancel",
                                          prog_hardlinked_timeout_cancel)),
              0);
}

// IOSQE_IO_DRAIN on a RECV that waits: a NOP submitted after it must wait until the RECV
// completes, even when an SQE the kernel refuses completes in between. The refused SQE's
// completion used to release the NOP early, into a list nobody issued: it never completed.
int prog_drain_holds_later_requests(int, char**) {
    int srv = -1, cli = -1;
    T_CHECK(make_tcp_pair(&srv, &cli) == 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    char buf[16];
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv(sqe, srv, buf, sizeof buf, 0);
    sqe->flags |= IOSQE_IO_DRAIN;
    sqe->user_data = 1;
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_nop(sqe);
    sqe->user_data = 2;
    T_CHECK(io_uring_submit(&ring) == 2);

    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_nop(sqe);
    sqe->opcode = 0xEE;  // no such operation
    sqe->user_data = 3;
    io_uring_submit(&ring);
    uint64_t ud = 0;
    int res = 0;
    T_CHECK(next_cqe(&ring, &ud, &res) == 0);
    T_CHECK(ud == 3 && res == -EINVAL);
    T_CHECK(io_uring_cq_ready(&ring) == 0);  // the NOP still waits behind the drain

    const char msg[] = "drain";
    T_CHECK(sys::send(cli, msg, 5, 0) == 5);
    T_CHECK(next_cqe(&ring, &ud, &res) == 0);
    T_CHECK(ud == 1 && res == 5);
    T_CHECK(next_cqe(&ring, &ud, &res) == 0);
    T_CHECK(ud == 2 && res == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(RingRegression, DrainHoldsLaterRequestsUntilItCompletes) {
    test::TempRoot root;
    EXPECT_EQ(
        exit_code(test::run_program(root.path(), "drain-holds", prog_drain_holds_later_requests)),
        0);
}

// Closing a ring with a hard-linked chain and drained requests waiting behind a RECV that
// never completes: close cancels everything and returns (it used to wait forever for
// requests that had been released into a list nobody issued).
int prog_close_with_waiting_chains(int, char**) {
    int srv = -1, cli = -1;
    T_CHECK(make_tcp_pair(&srv, &cli) == 0);
    for (int round = 0; round < 20; ++round) {
        io_uring ring;
        T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
        char buf[16];
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_recv(sqe, srv, buf, sizeof buf, 0);
        sqe->flags |= IOSQE_IO_HARDLINK;
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_nop(sqe);
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_nop(sqe);
        sqe->flags |= IOSQE_IO_DRAIN;
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_nop(sqe);
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_nop(sqe);
        sqe->opcode = 0xEE;
        io_uring_submit(&ring);
        io_uring_queue_exit(&ring);  // must not hang
    }
    return 0;
}

TEST(RingRegression, CloseCancelsChainsAndDrainsWaitingBehindARecv) {
    test::TempRoot root;
    EXPECT_EQ(
        exit_code(test::run_program(root.path(), "close-chains", prog_close_with_waiting_chains)),
        0);
}

// A LINK_TIMEOUT that fires while the ring closes: its callback used to read the guarded
// request after completing the timeout, when the closing ring could already be gone
// (ASan: heap-use-after-free in on_link_timeout_fired).
int prog_link_timeout_races_close(int, char**) {
    int srv = -1, cli = -1;
    T_CHECK(make_tcp_pair(&srv, &cli) == 0);
    for (int round = 0; round < 200; ++round) {
        io_uring ring;
        T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
        char buf[16];
        __kernel_timespec ts{0, 1000 * (round % 50)};
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_recv(sqe, srv, buf, sizeof buf, 0);
        sqe->flags |= IOSQE_IO_LINK;
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_link_timeout(sqe, &ts, 0);
        io_uring_submit(&ring);
        io_uring_queue_exit(&ring);
    }
    return 0;
}

TEST(RingRegression, LinkTimeoutFiringWhileTheRingCloses) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "lt-close", prog_link_timeout_races_close)),
              0);
}

}  // namespace

namespace {

// A TIMEOUT of 2^36 seconds: converting it to nanoseconds overflowed a signed 64-bit integer
// (UBSan, found by fuzz_enter). Now it saturates: the timeout simply never fires, and a cancel
// ends it.
int prog_huge_timeout(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    __kernel_timespec ts{int64_t{1} << 36, 0};
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_timeout(sqe, &ts, 0, 0);
    sqe->user_data = 1;
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_link_timeout(sqe, &ts, 0);  // no linked request before it: -EINVAL
    sqe->user_data = 2;
    io_uring_submit(&ring);
    uint64_t ud = 0;
    int res = 0;
    T_CHECK(next_cqe(&ring, &ud, &res) == 0);
    T_CHECK(ud == 2 && res == -EINVAL);
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_cancel64(sqe, 1, 0);
    sqe->user_data = 3;
    io_uring_submit(&ring);
    int got = 0;
    for (int i = 0; i < 2; ++i) {
        T_CHECK(next_cqe(&ring, &ud, &res) == 0);
        if (ud == 1) T_CHECK(res == -ECANCELED);
        if (ud == 3) T_CHECK(res == 0);
        got |= 1 << ud;
    }
    T_CHECK(got == ((1 << 1) | (1 << 3)));
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(RingRegression, HugeTimeoutSaturatesInsteadOfOverflowing) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "huge-timeout", prog_huge_timeout)), 0);
}

}  // namespace

namespace {

// IORING_REGISTER_FILES_UPDATE with counts from userland: nothing may be allocated from the
// count before it is checked (2^32-1 once asked for 16 GiB; found by fuzz_register).
int prog_files_update_counts(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    int fds[2] = {1, 2};
    io_uring_files_update up{};
    up.offset = 0;
    up.fds = reinterpret_cast<uint64_t>(fds);
    // Before any files are registered: -ENXIO; no count at all: -EINVAL (as on Linux).
    T_CHECK(sys::io_uring_register(ring.ring_fd, IORING_REGISTER_FILES_UPDATE, &up, 1) == -ENXIO);
    T_CHECK(sys::io_uring_register(ring.ring_fd, IORING_REGISTER_FILES_UPDATE, &up, 0) == -EINVAL);
    T_CHECK(io_uring_register_files(&ring, fds, 2) == 0);
    T_CHECK(sys::io_uring_register(ring.ring_fd, IORING_REGISTER_FILES_UPDATE, &up, 0xffffffffu) ==
            -EINVAL);
    T_CHECK(sys::io_uring_register(ring.ring_fd, IORING_REGISTER_FILES_UPDATE, &up, 2) == 2);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(RingRegression, FilesUpdateChecksItsCountBeforeAllocating) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "files-update", prog_files_update_counts)),
              0);
}

}  // namespace

namespace {

// A TIMEOUT guarded by a LINK_TIMEOUT that fires first: the TIMEOUT is cancelled (-ECANCELED),
// the LINK_TIMEOUT says -ETIME, as on Linux. The TIMEOUT used to run to its own end: its
// cancel asked an executor it never had.
int prog_link_timeout_cancels_a_timeout(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    __kernel_timespec long_ts{10, 0};
    __kernel_timespec short_ts{0, 10'000'000};
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_timeout(sqe, &long_ts, 0, 0);
    sqe->flags |= IOSQE_IO_LINK;
    sqe->user_data = 1;
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_link_timeout(sqe, &short_ts, 0);
    sqe->user_data = 2;
    T_CHECK(io_uring_submit(&ring) == 2);
    int res_of[3] = {1, 1, 1};
    for (int i = 0; i < 2; ++i) {
        uint64_t ud = 0;
        int res = 0;
        T_CHECK(next_cqe(&ring, &ud, &res) == 0);  // within 2 s, not the TIMEOUT's 10
        T_CHECK(ud == 1 || ud == 2);
        res_of[ud] = res;
    }
    T_CHECK(res_of[1] == -ECANCELED);
    T_CHECK(res_of[2] == -ETIME);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(RingRegression, LinkTimeoutCancelsAGuardedTimeout) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "lt-timeout",
                                          prog_link_timeout_cancels_a_timeout)),
              0);
}

// A TIMEOUT is issued (marked so under the ring's lock) and then, outside the lock, armed;
// in between, only its issue may complete it. An ASYNC_CANCEL run on another thread used to
// find it there, complete it and free it, and the issue then armed a timer on the freed
// request: a second completion of a recycled request (found by fuzz_enter as a close that
// waited forever, its count of requests in flight gone below zero). Here the window is wide:
// the TIMEOUT follows, in one submission, an ASYNC_CANCEL of a RECV running on the host, whose
// issue waits for the host's answer, and the RECV's completion (on the host reactor's thread)
// runs a hard-linked ASYNC_CANCEL of that very TIMEOUT meanwhile. Every request completes
// once, and as on Linux (where that linked cancel runs as task work after the submission, the
// TIMEOUT armed by then) the linked cancel finds the TIMEOUT whether or not it is armed yet:
// 0, and the TIMEOUT -ECANCELED, never -ENOENT and a TIMEOUT left for its 10 s. On the thread
// executor the cancel of the RECV completes it at once, so its linked cancel runs before the
// TIMEOUT's issue every time.
int prog_cancel_racing_a_timeouts_issue(int, char**) {
    int srv = -1, cli = -1;
    T_CHECK(make_tcp_pair(&srv, &cli) == 0);
    char buf[16];
    __kernel_timespec ts{10, 0};
    for (int round = 0; round < 50; ++round) {
        io_uring ring;
        T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_recv(sqe, srv, buf, sizeof buf, 0);  // no data: it waits on the host
        sqe->flags |= IOSQE_IO_HARDLINK;
        sqe->user_data = 1;
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_cancel64(sqe, 2, 0);  // runs when the RECV ends, cancelled or not
        sqe->user_data = 4;
        T_CHECK(io_uring_submit(&ring) == 2);
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_cancel64(sqe, 1, 0);
        sqe->user_data = 3;
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_timeout(sqe, &ts, 0, 0);
        sqe->user_data = 2;
        T_CHECK(io_uring_submit(&ring) == 2);
        int res_of[5] = {1, 1, 1, 1, 1};
        int seen = 0;
        for (int i = 0; i < 4; ++i) {
            uint64_t ud = 0;
            int res = 0;
            T_CHECK(next_cqe(&ring, &ud, &res) == 0);
            T_CHECK(ud >= 1 && ud <= 4);
            T_CHECK((seen & (1 << ud)) == 0);  // once each
            seen |= 1 << ud;
            res_of[ud] = res;
        }
        T_CHECK(seen == 0x1e);
        T_CHECK(res_of[1] == -ECANCELED);
        T_CHECK(res_of[2] == -ECANCELED);
        T_CHECK(res_of[3] == 0);
        T_CHECK(res_of[4] == 0);
        io_uring_queue_exit(&ring);
    }
    T_CHECK(proc_key("/proc/iouring", "Duplicated") == 0);
    T_CHECK(proc_key("/proc/iouring", "Lost") == 0);
    return 0;
}

TEST(RingRegression, ACancelRacingATimeoutsIssueCompletesItOnce) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "cancel-timeout-issue",
                                          prog_cancel_racing_a_timeouts_issue)),
              0);
}

}  // namespace
