// The completion ring end to end: toy programs on <toyos/liburing.h> against a booted kernel.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>

#include "iouring/manager.h"
#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/io.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

// --- NOP round trip ------------------------------------------------------------------------
int prog_nop(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    T_CHECK(sqe != nullptr);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, 0xabcdef);
    T_CHECK(io_uring_submit(&ring) == 1);
    io_uring_cqe* cqe = nullptr;
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    T_CHECK(cqe->user_data == 0xabcdef);
    T_CHECK(cqe->res == 0);
    io_uring_cqe_seen(&ring, cqe);
    T_CHECK(io_uring_cq_ready(&ring) == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Ring, NopRoundTrip) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "nop", prog_nop)), 0);
}

// --- 10,000 NOPs through a 4/8 ring, reaping only when submission pushes back ------------
int prog_nop_flood(int, char**) {
    constexpr unsigned kTotal = 10000;
    static uint8_t seen[kTotal];  // image memory: a global is the program's own
    std::memset(seen, 0, sizeof(seen));
    io_uring_params p;
    std::memset(&p, 0, sizeof(p));
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = 8;
    io_uring ring;
    T_CHECK(io_uring_queue_init_params(4, &ring, &p) == 0);
    T_CHECK(p.sq_entries == 4 && p.cq_entries == 8);
    T_CHECK(p.features & IORING_FEAT_NODROP);
    unsigned next = 0, reaped = 0, pushbacks = 0;
    auto reap_all = [&]() -> int {
        io_uring_cqe* cqe;
        while (io_uring_peek_cqe(&ring, &cqe) == 0) {
            if (cqe->user_data >= kTotal || cqe->res != 0) return 1;
            if (seen[cqe->user_data]++ != 0) return 2;  // duplicate
            ++reaped;
            io_uring_cqe_seen(&ring, cqe);
        }
        return 0;
    };
    while (next < kTotal) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        if (sqe != nullptr) {
            io_uring_prep_nop(sqe);
            io_uring_sqe_set_data64(sqe, next++);
            if (io_uring_sq_space_left(&ring) > 0 && next < kTotal) continue;
        }
        int r = io_uring_submit(&ring);
        if (r == -EBUSY) {  // the CQ and its backlog are full: reap, then resubmit
            ++pushbacks;
            T_CHECK(reap_all() == 0);
            continue;
        }
        T_CHECK(r >= 0);
    }
    while (io_uring_sq_ready(&ring) > 0) {
        int r = io_uring_submit(&ring);
        if (r == -EBUSY) T_CHECK(reap_all() == 0);
    }
    T_CHECK(reap_all() == 0);
    T_CHECK(reaped == kTotal);
    for (unsigned i = 0; i < kTotal; ++i) T_CHECK(seen[i] == 1);
    T_CHECK(pushbacks > 0);  // the scenario really exercised backpressure
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Ring, TenThousandNopsThroughTinyRingEachOnce) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "flood", prog_nop_flood)), 0);
}

// --- NOP(link) -> READ on a bad fd (link) -> NOP -----------------------------------------
int prog_link_bad_fd(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    char buf[16];
    io_uring_sqe* s1 = io_uring_get_sqe(&ring);
    io_uring_prep_nop(s1);
    s1->flags |= IOSQE_IO_LINK;
    s1->user_data = 1;
    io_uring_sqe* s2 = io_uring_get_sqe(&ring);
    io_uring_prep_read(s2, 77, buf, sizeof(buf), 0);
    s2->flags |= IOSQE_IO_LINK;
    s2->user_data = 2;
    io_uring_sqe* s3 = io_uring_get_sqe(&ring);
    io_uring_prep_nop(s3);
    s3->user_data = 3;
    T_CHECK(io_uring_submit_and_wait(&ring, 3) == 3);
    int res[4] = {99, 99, 99, 99};
    for (int i = 0; i < 3; ++i) {
        io_uring_cqe* cqe;
        T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        T_CHECK(cqe->user_data >= 1 && cqe->user_data <= 3);
        res[cqe->user_data] = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
    }
    T_CHECK(res[1] == 0);
    T_CHECK(res[2] == -EBADF);
    T_CHECK(res[3] == -ECANCELED);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Ring, LinkChainBrokenByBadFd) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "link", prog_link_bad_fd)), 0);
}

// --- file I/O through the ring ------------------------------------------------------------
int prog_file_io(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_openat(sqe, AT_FDCWD, "/data.txt", O_RDWR | O_CREAT, 0644);
    io_uring_cqe* cqe;
    T_CHECK(io_uring_submit_and_wait(&ring, 1) == 1);
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    const int fd = cqe->res;
    T_CHECK(fd >= 0);
    io_uring_cqe_seen(&ring, cqe);

    const char msg[] = "written through the ring";
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_write(sqe, fd, msg, sizeof(msg) - 1, 0);
    sqe->flags |= IOSQE_IO_LINK;
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
    T_CHECK(io_uring_submit_and_wait(&ring, 2) == 2);
    for (int i = 0; i < 2; ++i) {
        T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        T_CHECK(cqe->res >= 0);
        io_uring_cqe_seen(&ring, cqe);
    }
    char a[8] = {}, b[32] = {};
    iovec iov[2] = {{a, 7}, {b, sizeof(b)}};
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_readv(sqe, fd, iov, 2, 0);
    T_CHECK(io_uring_submit_and_wait(&ring, 1) == 1);
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    T_CHECK(cqe->res == static_cast<int>(sizeof(msg) - 1));
    io_uring_cqe_seen(&ring, cqe);
    T_CHECK(std::memcmp(a, "written", 7) == 0);
    T_CHECK(std::memcmp(b, " through the ring", 17) == 0);

    // Heap memory is not the process's: -EFAULT in the CQE, not a crash.
    char* heap = new char[64];
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fd, heap, 64, 0);
    T_CHECK(io_uring_submit_and_wait(&ring, 1) == 1);
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    T_CHECK(cqe->res == -EFAULT);
    io_uring_cqe_seen(&ring, cqe);
    delete[] heap;

    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_lseek(sqe, fd, 3, SEEK_SET);
    T_CHECK(io_uring_submit_and_wait(&ring, 1) == 1);
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    T_CHECK(cqe->res == 3);
    io_uring_cqe_seen(&ring, cqe);

    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_close(sqe, fd);
    T_CHECK(io_uring_submit_and_wait(&ring, 1) == 1);
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    T_CHECK(cqe->res == 0);
    io_uring_cqe_seen(&ring, cqe);
    T_CHECK(sys::close(fd) == -EBADF);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Ring, FileIoOpenWriteFsyncReadvLseekClose) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "fileio", prog_file_io)), 0);
    EXPECT_EQ(root.read("data.txt"), "written through the ring");
}

// --- timeouts --------------------------------------------------------------------------------
int prog_timeouts(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    __kernel_timespec ts{0, 20'000'000};
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_timeout(sqe, &ts, 0, 0);
    sqe->user_data = 1;
    io_uring_cqe* cqe;
    T_CHECK(io_uring_submit_and_wait(&ring, 1) == 1);
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    T_CHECK(cqe->user_data == 1 && cqe->res == -ETIME);
    io_uring_cqe_seen(&ring, cqe);

    // A timeout with count 2 completes (res 0) after two other completions.
    __kernel_timespec long_ts{10, 0};
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_timeout(sqe, &long_ts, 2, 0);
    sqe->user_data = 2;
    for (int i = 0; i < 2; ++i) {
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_nop(sqe);
        sqe->user_data = 10 + i;
    }
    T_CHECK(io_uring_submit_and_wait(&ring, 3) == 3);
    bool timeout_done = false;
    for (int i = 0; i < 3; ++i) {
        T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        if (cqe->user_data == 2) {
            T_CHECK(cqe->res == 0);
            timeout_done = true;
        }
        io_uring_cqe_seen(&ring, cqe);
    }
    T_CHECK(timeout_done);

    // Cancel a pending timeout by user_data.
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_timeout(sqe, &long_ts, 0, 0);
    sqe->user_data = 3;
    T_CHECK(io_uring_submit(&ring) == 1);
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_cancel64(sqe, 3, 0);
    sqe->user_data = 4;
    T_CHECK(io_uring_submit_and_wait(&ring, 2) == 1);
    int res3 = 1, res4 = 1;
    for (int i = 0; i < 2; ++i) {
        T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        (cqe->user_data == 3 ? res3 : res4) = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
    }
    T_CHECK(res3 == -ECANCELED);
    T_CHECK(res4 == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Ring, TimeoutsExpireCountAndCancel) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "timeouts", prog_timeouts)), 0);
}

// --- sockets: a recv that waits, a link timeout, a cancel --------------------------------------
int prog_sockets(int, char**) {
    int srv, cli;
    T_CHECK(make_tcp_pair(&srv, &cli) == 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(16, &ring, 0) == 0);
    char buf[64];
    // recv waits for data that arrives later
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv(sqe, srv, buf, sizeof(buf), 0);
    sqe->user_data = 1;
    T_CHECK(io_uring_submit(&ring) == 1);
    io_uring_cqe* cqe;
    T_CHECK(io_uring_peek_cqe(&ring, &cqe) == -EAGAIN);
    T_CHECK(sys::send(cli, "ping", 4, 0) == 4);
    T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
    T_CHECK(cqe->user_data == 1 && cqe->res == 4);
    io_uring_cqe_seen(&ring, cqe);
    T_CHECK(std::memcmp(buf, "ping", 4) == 0);

    // recv guarded by a link timeout: -ECANCELED and -ETIME
    __kernel_timespec ts{0, 30'000'000};
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv(sqe, srv, buf, sizeof(buf), 0);
    sqe->flags |= IOSQE_IO_LINK;
    sqe->user_data = 2;
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_link_timeout(sqe, &ts, 0);
    sqe->user_data = 3;
    T_CHECK(io_uring_submit_and_wait(&ring, 2) == 2);
    int r2 = 1, r3 = 1;
    for (int i = 0; i < 2; ++i) {
        T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        (cqe->user_data == 2 ? r2 : r3) = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
    }
    T_CHECK(r2 == -ECANCELED);
    T_CHECK(r3 == -ETIME);

    // an explicit cancel of a waiting recv
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv(sqe, srv, buf, sizeof(buf), 0);
    sqe->user_data = 5;
    T_CHECK(io_uring_submit(&ring) == 1);
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_cancel64(sqe, 5, 0);
    sqe->user_data = 6;
    T_CHECK(io_uring_submit_and_wait(&ring, 2) == 1);
    int r5 = 1, r6 = 1;
    for (int i = 0; i < 2; ++i) {
        T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        (cqe->user_data == 5 ? r5 : r6) = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
    }
    T_CHECK(r5 == -ECANCELED);
    T_CHECK(r6 == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Ring, SocketRecvLinkTimeoutAndCancel) {
    test::TempRoot root;
    EXPECT_EQ(exit_code(test::run_program(root.path(), "sockets", prog_sockets)), 0);
}

// --- a process killed with 100 reads in flight on a slow socket --------------------------------
std::atomic<int> g_victim_pid{0};
std::atomic<int> g_victim_armed{0};

int prog_victim(int, char**) {
    int srv, cli;
    if (make_tcp_pair(&srv, &cli) != 0) return 1;
    io_uring ring;
    if (io_uring_queue_init(128, &ring, 0) != 0) return 2;
    static char bufs[100][32];
    for (int i = 0; i < 100; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_recv(sqe, srv, bufs[i], sizeof(bufs[i]), 0);
        sqe->user_data = static_cast<uint64_t>(i);
    }
    if (io_uring_submit(&ring) != 100) return 3;
    g_victim_armed.store(1);
    io_uring_cqe* cqe;
    io_uring_wait_cqe(&ring, &cqe);  // never satisfied: the peer never writes
    return 4;
}

int prog_killer(int, char**) {
    const char* argv[] = {"victim", nullptr};
    pid_t pid = sys::spawn("victim", argv);
    T_CHECK(pid > 0);
    for (int i = 0; i < 500 && g_victim_armed.load() == 0; ++i) sys::sleep_ns(2'000'000);
    T_CHECK(g_victim_armed.load() == 1);
    // Another process keeps working with its own ring meanwhile.
    io_uring ring;
    T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    T_CHECK(sys::kill(pid, 9) == 0);
    int status = 0;
    T_CHECK(sys::waitpid(pid, &status, 0) == pid);
    T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == 9);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_nop(sqe);
    T_CHECK(io_uring_submit_and_wait(&ring, 1) == 1);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Ring, KilledProcessWithHundredReadsInFlight) {
    g_victim_armed = 0;
    test::TempRoot root;
    kernel::ProgramCatalog catalog;
    catalog.add_builtin("killer", prog_killer, "");
    catalog.add_builtin("victim", prog_victim, "");
    kernel::KernelConfig config;
    config.root = root.path();
    auto k = kernel::Kernel::boot(config, std::move(catalog));
    ASSERT_TRUE(k.ok());
    auto status = k.value()->run("killer", {"killer"});
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(exit_code(status.value()), 0);
    auto st = k.value()->io_uring().stats();
    EXPECT_GE(st.cancelled, 100u);  // every recv of the victim ended Cancelled
    EXPECT_EQ(st.pending, 0u);
}

}  // namespace
