// User memory as the kernel checks it: each mapping's own protection (PROT_NONE, PROT_READ),
// ring fd mappings that are mappings of their own, and the socket addresses the kernel writes
// back (ACCEPT, RECVMSG) only ever through the checked door at completion. Every answer is
// Linux's (checked against the host kernel 6.18; docs/reliability.md, "Bad inputs"). Before
// these fixes several of them killed the whole test binary with SIGSEGV: such a test fails.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>

#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

// One SQE on `ring`, submitted and waited for: its CQE's res (1000+ when the ring misbehaves).
int32_t run_one(io_uring& ring, auto&& prep) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) return 1000;
    prep(sqe);
    if (io_uring_submit(&ring) != 1) return 1001;
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(&ring, &cqe) != 0) return 1002;
    const int32_t res = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    return res;
}

void* map_anon(int prot) {
    return sys::mmap(nullptr, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

// --- PROT_NONE and PROT_READ memory ----------------------------------------------------------
struct ProtResults {
    int open_path = 1, stat_path = 1, register_iovecs = 1, setup_params = 1;
    int32_t timeout_ts = 1, openat_path = 1, read_into = 1, write_from = 1;
    int32_t read_into_readonly = 1, write_from_readonly = 1;
    int32_t statx_path = 1, statx_into_readonly = 1, statx_proc = 1, statx_dev = 1;
    uint32_t statx_proc_type = 0, statx_dev_type = 0;
} g_prot;

int prog_prot(int, char**) {
    ProtResults& r = g_prot;
    void* none = map_anon(PROT_NONE);
    void* ro = map_anon(PROT_READ);
    T_CHECK(none != MAP_FAILED && ro != MAP_FAILED);
    const int fd = sys::open("/data.txt", O_RDWR);
    T_CHECK(fd >= 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    auto* path = static_cast<const char*>(none);
    r.open_path = sys::open(path, O_RDONLY);
    struct stat st {};
    r.stat_path = sys::stat(path, &st);
    r.register_iovecs = io_uring_register_buffers(&ring, static_cast<const iovec*>(none), 1);
    r.setup_params = sys::io_uring_setup(4, none);
    r.timeout_ts = run_one(ring, [&](io_uring_sqe* s) {
        io_uring_prep_timeout(s, static_cast<__kernel_timespec*>(none), 0, 0);
    });
    r.openat_path = run_one(
        ring, [&](io_uring_sqe* s) { io_uring_prep_openat(s, AT_FDCWD, path, O_RDONLY, 0); });
    r.read_into = run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, fd, none, 4, 0); });
    r.write_from = run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_write(s, fd, none, 4, 0); });
    r.read_into_readonly =
        run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, fd, ro, 4, 0); });
    r.write_from_readonly =
        run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_write(s, fd, ro, 4, 0); });
    // STATX: its path is read at prep, its struct statx written through the checked door when
    // it completes. Kernel objects answer from their own stat.
    static struct statx stx;
    r.statx_path = run_one(ring, [&](io_uring_sqe* s) {
        io_uring_prep_statx(s, AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx);
    });
    r.statx_into_readonly = run_one(ring, [&](io_uring_sqe* s) {
        io_uring_prep_statx(s, AT_FDCWD, "/data.txt", 0, STATX_BASIC_STATS,
                            static_cast<struct statx*>(ro));
    });
    r.statx_proc = run_one(ring, [&](io_uring_sqe* s) {
        io_uring_prep_statx(s, AT_FDCWD, "/proc/iouring", 0, STATX_BASIC_STATS, &stx);
    });
    r.statx_proc_type = stx.stx_mode & S_IFMT;
    r.statx_dev = run_one(ring, [&](io_uring_sqe* s) {
        io_uring_prep_statx(s, AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS, &stx);
    });
    r.statx_dev_type = stx.stx_mode & S_IFMT;
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(UserMemory, ProtNoneAndReadOnlyMemoryAreEfault) {
    test::TempRoot root;
    root.write("data.txt", "data");
    ASSERT_EQ(exit_code(test::run_program(root.path(), "prot", prog_prot)), 0);
    const ProtResults& r = g_prot;
    EXPECT_EQ(r.open_path, -EFAULT);
    EXPECT_EQ(r.stat_path, -EFAULT);
    EXPECT_EQ(r.register_iovecs, -EFAULT);
    EXPECT_EQ(r.setup_params, -EFAULT);
    EXPECT_EQ(r.timeout_ts, -EFAULT);
    EXPECT_EQ(r.openat_path, -EFAULT);
    EXPECT_EQ(r.read_into, -EFAULT);
    EXPECT_EQ(r.write_from, -EFAULT);
    EXPECT_EQ(r.read_into_readonly, -EFAULT);
    EXPECT_EQ(r.write_from_readonly, 4);
    EXPECT_EQ(r.statx_path, -EFAULT);
    EXPECT_EQ(r.statx_into_readonly, -EFAULT);
    EXPECT_EQ(r.statx_proc, 0);
    EXPECT_EQ(r.statx_proc_type, static_cast<uint32_t>(S_IFREG));
    EXPECT_EQ(r.statx_dev, 0);
    EXPECT_EQ(r.statx_dev_type, static_cast<uint32_t>(S_IFCHR));
}

// --- Mappings of a ring fd -------------------------------------------------------------------
struct RingMapResults {
    bool distinct = false;
    int32_t read_into_readonly_ring = 1;
    int32_t read_into_full_sqes = 1, read_into_short_after_munmap = 1, read_into_full_after = 1;
    bool shared_pages = false;
} g_ringmap;

int prog_ringmap(int, char**) {
    RingMapResults& r = g_ringmap;
    const int fd = sys::open("/data.txt", O_RDONLY);
    T_CHECK(fd >= 0);
    io_uring ring;  // does the I/O
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    io_uring mapped;  // whose memory is mapped again (256 SQEs: 4 pages, the last one unused)
    T_CHECK(io_uring_queue_init(256, &mapped, 0) == 0);
    const int rfd = mapped.ring_fd;
    void* ro_ring = sys::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, rfd, IORING_OFF_SQ_RING);
    T_CHECK(ro_ring != MAP_FAILED);
    r.read_into_readonly_ring =
        run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, fd, ro_ring, 4, 0); });
    constexpr size_t kSqesBytes = 256 * sizeof(io_uring_sqe);
    void* shorts[5];
    for (void*& p : shorts) {
        p = sys::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, IORING_OFF_SQES);
        T_CHECK(p != MAP_FAILED);
    }
    auto* full = static_cast<char*>(
        sys::mmap(nullptr, kSqesBytes, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, IORING_OFF_SQES));
    T_CHECK(full != MAP_FAILED);
    r.distinct = true;
    for (int i = 0; i < 5; ++i) {
        if (shorts[i] == full || shorts[i] == ro_ring) r.distinct = false;
        for (int j = 0; j < i; ++j)
            if (shorts[i] == shorts[j]) r.distinct = false;
    }
    char* last_page = full + kSqesBytes - 4096;
    r.read_into_full_sqes =
        run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, fd, last_page, 4, 0); });
    // The same pages as the ring's own SQE mapping.
    r.shared_pages =
        std::memcmp(reinterpret_cast<char*>(mapped.sq.sqes) + kSqesBytes - 4096, "data", 4) == 0;
    T_CHECK(sys::munmap(shorts[2], 4096) == 0);
    r.read_into_short_after_munmap =
        run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, fd, shorts[3], 4, 0); });
    r.read_into_full_after =
        run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, fd, last_page, 4, 0); });
    io_uring_queue_exit(&mapped);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(UserMemory, EachRingMappingHasItsOwnAddressAndProtection) {
    test::TempRoot root;
    root.write("data.txt", "data");
    ASSERT_EQ(exit_code(test::run_program(root.path(), "ringmap", prog_ringmap)), 0);
    const RingMapResults& r = g_ringmap;
    EXPECT_TRUE(r.distinct);
    EXPECT_EQ(r.read_into_readonly_ring, -EFAULT);  // as Linux: the mapping is PROT_READ
    EXPECT_EQ(r.read_into_full_sqes, 4);
    EXPECT_TRUE(r.shared_pages);
    EXPECT_EQ(r.read_into_short_after_munmap, 4);
    EXPECT_EQ(r.read_into_full_after, 4);
}

// --- Socket addresses written back -----------------------------------------------------------
// Host memory no toy process owns (the test's own mapping), as an attacker would aim at it.
unsigned char* g_foreign = nullptr;
struct AcceptResults {
    int32_t foreign_res = 1;
    socklen_t foreign_len_after = 0;
    int32_t readonly_res = 1;
    int32_t own_res = -1;
    socklen_t own_len_after = 0;
    bool own_family_ok = false, own_tail_untouched = false;
    int32_t truncated_res = -1;
    socklen_t truncated_len_after = 0;
    bool truncated_tail_untouched = false;
    int32_t negative_len_res = 1;
    int32_t recvmsg_readonly_name = 1;
    long dgram_left = 0;
} g_accept;

int listener(sockaddr_in* addr) {
    const int lfd = sys::socket(AF_INET, SOCK_STREAM, 0);
    *addr = sockaddr_in{};
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(*addr);
    if (sys::bind(lfd, reinterpret_cast<sockaddr*>(addr), sizeof(*addr)) < 0) return -1;
    if (sys::listen(lfd, 8) < 0) return -1;
    if (sys::getsockname(lfd, reinterpret_cast<sockaddr*>(addr), &len) < 0) return -1;
    return lfd;
}

// Submits an ACCEPT into (addr, *addrlen = before), then sets *addrlen = after and connects:
// the CQE's res (the accepted fd is closed).
int32_t accept_raced(io_uring& ring, int lfd, const sockaddr_in& to, void* addr, socklen_t* lenp,
                     socklen_t before, socklen_t after) {
    *lenp = before;
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    io_uring_prep_accept(s, lfd, static_cast<sockaddr*>(addr), lenp, 0);
    if (io_uring_submit(&ring) != 1) return 1001;
    sys::sleep_ns(20'000'000);  // the ACCEPT is waiting on the host
    *lenp = after;
    const int c = sys::socket(AF_INET, SOCK_STREAM, 0);
    sys::connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(&ring, &cqe) != 0) return 1002;
    const int32_t res = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    if (res >= 0) sys::close(res);
    sys::close(c);
    return res;
}

int prog_accept(int, char**) {
    AcceptResults& r = g_accept;
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    sockaddr_in to{};
    const int lfd = listener(&to);
    T_CHECK(lfd >= 0);
    socklen_t len = 0;
    // The attack: *addrlen 0 passes any check of addr, then grows before the connection.
    r.foreign_res = accept_raced(ring, lfd, to, g_foreign, &len, 0, 128);
    r.foreign_len_after = len;
    void* ro = map_anon(PROT_READ);
    T_CHECK(ro != MAP_FAILED);
    r.readonly_res = accept_raced(ring, lfd, to, ro, &len, 0, 128);
    // Linux reads *addrlen when the connection is accepted: the grown length counts.
    unsigned char own[64];
    std::memset(own, 0x55, sizeof(own));
    r.own_res = accept_raced(ring, lfd, to, own, &len, 0, 128);
    r.own_len_after = len;
    sockaddr_in got{};
    std::memcpy(&got, own, sizeof(got));
    r.own_family_ok = got.sin_family == AF_INET && got.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    r.own_tail_untouched = own[sizeof(sockaddr_in)] == 0x55;
    std::memset(own, 0x55, sizeof(own));
    r.truncated_res = accept_raced(ring, lfd, to, own, &len, 4, 4);
    r.truncated_len_after = len;
    r.truncated_tail_untouched = own[4] == 0x55;
    r.negative_len_res = accept_raced(ring, lfd, to, own, &len, 0, static_cast<socklen_t>(-1));
    // RECVMSG's name goes the same way: a datagram whose name cannot be written is consumed
    // and the CQE is -EFAULT, as on Linux.
    const int u = sys::socket(AF_INET, SOCK_DGRAM, 0);
    const int v = sys::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in ua{};
    ua.sin_family = AF_INET;
    ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t ualen = sizeof(ua);
    T_CHECK(sys::bind(u, reinterpret_cast<sockaddr*>(&ua), sizeof(ua)) == 0);
    T_CHECK(sys::getsockname(u, reinterpret_cast<sockaddr*>(&ua), &ualen) == 0);
    T_CHECK(sys::sendto(v, "dgram", 5, 0, reinterpret_cast<sockaddr*>(&ua), sizeof(ua)) == 5);
    char data[16];
    iovec iov{data, sizeof(data)};
    msghdr m{};
    m.msg_name = ro;
    m.msg_namelen = sizeof(sockaddr_in);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    r.recvmsg_readonly_name =
        run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_recvmsg(s, u, &m, 0); });
    r.dgram_left = sys::recvfrom(u, data, sizeof(data), MSG_DONTWAIT, nullptr, nullptr);
    io_uring_queue_exit(&ring);
    return 0;
}

class UserMemoryAccept : public ::testing::Test {
  protected:
    void SetUp() override {
        void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ASSERT_NE(p, MAP_FAILED);
        g_foreign = static_cast<unsigned char*>(p);
        std::memset(g_foreign, 0x55, 4096);
    }
    void TearDown() override { ::munmap(g_foreign, 4096); }
};

TEST_F(UserMemoryAccept, AddressIsCopiedOutAtCompletionThroughTheCheckedDoor) {
    test::TempRoot root;
    ASSERT_EQ(exit_code(test::run_program(root.path(), "accept", prog_accept)), 0);
    const AcceptResults& r = g_accept;
    // Not a byte of the foreign page was written, and the caller learns -EFAULT (Linux).
    bool untouched = true;
    for (int i = 0; i < 4096; ++i) untouched &= g_foreign[i] == 0x55;
    EXPECT_TRUE(untouched);
    EXPECT_EQ(r.foreign_res, -EFAULT);
    EXPECT_EQ(r.foreign_len_after, 128u);  // Linux leaves *addrlen alone when the copy fails
    EXPECT_EQ(r.readonly_res, -EFAULT);
    EXPECT_GE(r.own_res, 0);
    EXPECT_EQ(r.own_len_after, sizeof(sockaddr_in));
    EXPECT_TRUE(r.own_family_ok);
    EXPECT_TRUE(r.own_tail_untouched);
    EXPECT_GE(r.truncated_res, 0);
    EXPECT_EQ(r.truncated_len_after, sizeof(sockaddr_in));  // the length before truncation
    EXPECT_TRUE(r.truncated_tail_untouched);
    EXPECT_EQ(r.negative_len_res, -EINVAL);
    EXPECT_EQ(r.recvmsg_readonly_name, -EFAULT);
    EXPECT_EQ(r.dgram_left, -EAGAIN);  // consumed, as Linux consumes it
}

}  // namespace
