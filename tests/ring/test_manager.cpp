// IoUringManager: seed 004's kernel-side API and the ring route of classic syscalls.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "iouring/manager.h"
#include "kernel/log.h"
#include "ring_test_support.h"
#include "toyos/io.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

std::atomic<uintptr_t> g_buffer{0};
std::atomic<int> g_file_fd{-1};
std::atomic<int> g_sock_fd{-1};
std::atomic<bool> g_release{false};

// Holds a file, a socket with no data and a stack buffer, then waits to be released or killed.
int prog_holder(int, char**) {
    char buf[64] = {};
    int fd = sys::open("/data.txt", O_RDONLY);
    if (fd < 0) return 1;
    int lfd = sys::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sys::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    sys::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
    sys::listen(lfd, 1);
    int cli = sys::socket(AF_INET, SOCK_STREAM, 0);
    if (sys::connect(cli, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) return 2;
    int srv = sys::accept(lfd, nullptr, nullptr);
    g_file_fd = fd;
    g_sock_fd = srv;
    g_buffer = reinterpret_cast<uintptr_t>(buf);
    while (!g_release.load()) sys::sleep_ns(1'000'000);
    return std::memcmp(buf, "kernel", 6) == 0 ? 0 : 3;
}

TEST(IoUringManager, SubmitReapWaitStatsAndCancelOnKill) {
    kernel::init_logging("warn");
    test::TempRoot root;
    root.write("data.txt", "kernel-side API");
    kernel::ProgramCatalog catalog;
    catalog.add_builtin("holder", prog_holder, "");
    kernel::KernelConfig config;
    config.root = root.path();
    auto booted = kernel::Kernel::boot(config, std::move(catalog));
    ASSERT_TRUE(booted.ok());
    auto& k = *booted.value();
    auto& mgr = k.io_uring();
    g_buffer = 0;
    g_release = false;
    auto pid = k.spawn(nullptr, "holder", {"holder"});
    ASSERT_TRUE(pid.ok());
    while (g_buffer.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    ASSERT_TRUE(mgr.create_ring(pid.value(), 16, 64).ok());
    EXPECT_EQ(mgr.create_ring(pid.value()).error(), EEXIST);
    EXPECT_EQ(mgr.create_ring(9999).error(), ESRCH);

    iouring::SyscallSubmissionEntry nop;
    nop.sqe.opcode = IORING_OP_NOP;
    nop.sqe.user_data = 77;
    auto s1 = mgr.submit(pid.value(), nop);
    ASSERT_TRUE(s1.ok());
    auto c1 = mgr.wait_completion(pid.value(), s1.value());
    ASSERT_TRUE(c1.ok());
    EXPECT_EQ(c1->seq, s1.value());
    EXPECT_EQ(c1->user_data, 77u);
    EXPECT_EQ(c1->status, iouring::CompletionStatus::Success);

    // READ into the process's own stack buffer through the kernel API.
    iouring::SyscallSubmissionEntry rd;
    rd.sqe.opcode = IORING_OP_READ;
    rd.sqe.fd = g_file_fd.load();
    rd.sqe.addr = g_buffer.load();
    rd.sqe.len = 6;
    rd.sqe.user_data = 78;
    auto s2 = mgr.submit(pid.value(), rd);
    ASSERT_TRUE(s2.ok());
    EXPECT_GT(s2.value(), s1.value());
    // An error carries errno and message.
    iouring::SyscallSubmissionEntry bad = rd;
    bad.sqe.fd = 999;
    bad.sqe.user_data = 79;
    auto s3 = mgr.submit(pid.value(), bad);
    ASSERT_TRUE(s3.ok());
    auto c3 = mgr.wait_completion(pid.value(), s3.value());
    ASSERT_TRUE(c3.ok());
    EXPECT_EQ(c3->status, iouring::CompletionStatus::Error);
    EXPECT_EQ(c3->error, EBADF);
    EXPECT_EQ(c3->message, "Bad file descriptor");
    // The READ runs on an executor thread: reap until it shows up.
    auto reaped = mgr.reap_completions(pid.value(), 10);
    for (int i = 0; i < 1000 && reaped.ok() && reaped->empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        reaped = mgr.reap_completions(pid.value(), 10);
    }
    ASSERT_TRUE(reaped.ok());
    ASSERT_EQ(reaped->size(), 1u);
    EXPECT_EQ(reaped->front().user_data, 78u);
    EXPECT_EQ(reaped->front().res, 6);
    EXPECT_EQ(mgr.wait_completion(pid.value(), s2.value()).error(), ENOENT);  // handed out

    auto st = mgr.stats();
    EXPECT_GE(st.active_rings, 1u);
    EXPECT_EQ(st.total_submissions, 3u);
    EXPECT_EQ(st.total_completions, 3u);
    EXPECT_EQ(st.pending, 0u);

    // Two receives that will never get data, then the process is killed: both end Cancelled.
    iouring::SyscallSubmissionEntry rv;
    rv.sqe.opcode = IORING_OP_RECV;
    rv.sqe.fd = g_sock_fd.load();
    rv.sqe.addr = g_buffer.load() + 8;
    rv.sqe.len = 8;
    ASSERT_TRUE(mgr.submit(pid.value(), rv).ok());
    ASSERT_TRUE(mgr.submit(pid.value(), rv).ok());
    EXPECT_EQ(mgr.stats().pending, 2u);
    auto proc = k.processes().find(pid.value());
    ASSERT_TRUE(proc);
    proc->kill(9);
    auto status = k.processes().wait_and_reap(pid.value());
    ASSERT_TRUE(status.ok());
    EXPECT_TRUE(WIFSIGNALED(status.value()));
    st = mgr.stats();
    EXPECT_EQ(st.pending, 0u);
    EXPECT_EQ(st.cancelled, 2u);
    // Conservation: the ring was torn down with both receives cancelled, none lost or doubled.
    EXPECT_EQ(st.completed_at_teardown, 2u);
    EXPECT_EQ(st.rings_checked, 1u);
    EXPECT_EQ(st.lost, 0u);
    EXPECT_EQ(st.duplicated, 0u);
    EXPECT_EQ(mgr.submit(pid.value(), nop).error(), ENXIO);  // its ring is gone
}

// --- the ring route: classic syscalls as SQEs on the process's kernel ring ------------------
int prog_cat_hello(int, char**) {
    char buf[64] = {};
    int fd = sys::open("/hello.txt", O_RDONLY);
    if (fd < 0) return 1;
    ssize_t n = sys::read(fd, buf, sizeof(buf));
    if (n != 5 || std::memcmp(buf, "hello", 5) != 0) return 2;
    if (sys::lseek(fd, 1, SEEK_SET) != 1) return 3;
    if (sys::read(fd, buf, 4) != 4 || std::memcmp(buf, "ello", 4) != 0) return 4;
    if (sys::read(777, buf, 1) != -EBADF) return 5;
    if (sys::close(fd) != 0) return 6;
    return 0;
}

TEST(RingRoute, ClassicSyscallsThroughTheRing) {
    test::TempRoot root;
    root.write("hello.txt", "hello");
    kernel::KernelConfig config;
    kernel::SyscallHandlerRegistry reg;
    kernel::register_all_syscalls(reg);
    ASSERT_EQ(kernel::parse_routes("read=ring,open=ring,close=ring,lseek=ring", reg, config.routes),
              "");
    EXPECT_NE(kernel::parse_routes("stat=ring", reg, config.routes), "");  // no opcode
    kernel::ProgramCatalog catalog;
    catalog.add_builtin("cat", prog_cat_hello, "");
    config.root = root.path();
    auto k = kernel::Kernel::boot(config, std::move(catalog));
    ASSERT_TRUE(k.ok());
    auto status = k.value()->run("cat", {"cat"});
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(WEXITSTATUS(status.value()), 0);
    EXPECT_EQ(k.value()->syscall_count(toyos::abi::TOYOS_SYS_read, kernel::Route::Ring), 3u);
    EXPECT_EQ(k.value()->syscall_count(toyos::abi::TOYOS_SYS_read, kernel::Route::Direct), 0u);
    auto st = k.value()->io_uring().stats();
    EXPECT_EQ(st.op_count[IORING_OP_READ], 3u);
    EXPECT_EQ(st.op_count[IORING_OP_OPENAT], 1u);
    EXPECT_EQ(st.op_count[IORING_OP_CLOSE], 1u);
    EXPECT_EQ(st.op_count[IORING_OP_TOYOS_LSEEK], 1u);
}

}  // namespace
