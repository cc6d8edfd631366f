// Isolation and limits on the ring: a process cannot reach another's fds, ring, registered
// buffers or memory through any SQE or io_uring syscall; OPENAT through the ring cannot leave
// the sandbox root; per-process limits on rings, operations in flight and registered buffer
// bytes answer with EMFILE, EAGAIN and ENOMEM (docs/reliability.md lists each case).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/io.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

// One operation on `ring`, waited for: its CQE's res.
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

// --- Another process's fds, ring, registered buffers and memory ---------------------------
// What the parent owns, as numbers the child knows (globals: host memory both can see, as an
// attacker would guess them).
int g_parent_file_fd = -1, g_parent_ring_fd = -1;
char* g_parent_buf = nullptr;   // the parent's stack: registered in the parent's ring
char* g_parent_mmap = nullptr;  // the parent's anonymous memory
struct ChildResults {
    int32_t read_parent_fd = 1;        // READ on the parent's file fd number
    int32_t enter_parent_ring = 1;     // io_uring_enter on the parent's ring fd number
    int32_t register_parent_ring = 1;  // io_uring_register on it
    int32_t read_into_parent_stack = 1;
    int32_t read_into_parent_mmap = 1;
    int32_t write_from_parent_mmap = 1;
    int32_t read_fixed_unregistered = 1;        // READ_FIXED with no buffers registered
    int32_t read_fixed_parent_addr = 1;         // within the parent's registration, not ours
    int32_t read_fixed_index_beyond = 1;        // buf_index past our registration
    int32_t register_parent_buffer = 1;         // io_uring_register_buffers on parent memory
    int32_t register_parent_file = 1;           // io_uring_register_files with its fd number
    int32_t fixed_file_unregistered_index = 1;  // IOSQE_FIXED_FILE beyond our table
    int32_t own_read = 1;                       // and its own read still works
} g_child;
char g_parent_buf_after[16];

int prog_isolation(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "child") == 0) {
        ChildResults& c = g_child;
        io_uring ring;
        T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
        const int own = sys::open("/child.txt", O_RDONLY);
        T_CHECK(own >= 0);
        char buf[16];
        c.read_parent_fd = run_one(ring, [&](io_uring_sqe* s) {
            io_uring_prep_read(s, g_parent_file_fd, buf, sizeof(buf), 0);
        });
        c.enter_parent_ring = sys::io_uring_enter(g_parent_ring_fd, 1, 0, 0, nullptr, 0);
        c.register_parent_ring =
            sys::io_uring_register(g_parent_ring_fd, IORING_UNREGISTER_BUFFERS, nullptr, 0);
        c.read_into_parent_stack =
            run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, own, g_parent_buf, 8, 0); });
        c.read_into_parent_mmap = run_one(
            ring, [&](io_uring_sqe* s) { io_uring_prep_read(s, own, g_parent_mmap, 8, 0); });
        const int out = sys::open("/child-out.txt", O_WRONLY | O_CREAT, 0644);
        c.write_from_parent_mmap = run_one(
            ring, [&](io_uring_sqe* s) { io_uring_prep_write(s, out, g_parent_mmap, 8, 0); });
        c.read_fixed_unregistered = run_one(ring, [&](io_uring_sqe* s) {
            io_uring_prep_read_fixed(s, own, g_parent_buf, 8, 0, 0);
        });
        iovec parent_iov{g_parent_buf, 16};
        c.register_parent_buffer = io_uring_register_buffers(&ring, &parent_iov, 1);
        iovec mine{buf, sizeof(buf)};
        T_CHECK(io_uring_register_buffers(&ring, &mine, 1) == 0);
        c.read_fixed_parent_addr = run_one(ring, [&](io_uring_sqe* s) {
            io_uring_prep_read_fixed(s, own, g_parent_buf, 8, 0, 0);
        });
        c.read_fixed_index_beyond =
            run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_read_fixed(s, own, buf, 8, 0, 1); });
        c.register_parent_file = io_uring_register_files(&ring, &g_parent_file_fd, 1);
        c.fixed_file_unregistered_index = run_one(ring, [&](io_uring_sqe* s) {
            io_uring_prep_read(s, 0, buf, 8, 0);
            io_uring_sqe_set_flags(s, IOSQE_FIXED_FILE);
        });
        c.own_read =
            run_one(ring, [&](io_uring_sqe* s) { io_uring_prep_read_fixed(s, own, buf, 8, 0, 0); });
        io_uring_queue_exit(&ring);
        return 0;
    }
    // Parent: a file, a ring with a registered buffer, and anonymous memory; then the child.
    // A few files first, so that the numbers the child tries are free in its own table.
    for (int i = 0; i < 5; ++i) T_CHECK(sys::open("/secret.txt", O_RDONLY) >= 0);
    g_parent_file_fd = sys::open("/secret.txt", O_RDONLY);
    T_CHECK(g_parent_file_fd >= 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    g_parent_ring_fd = ring.ring_fd;
    char stack_buf[16];
    std::memcpy(stack_buf, "parent-secret-xx", 16);
    g_parent_buf = stack_buf;
    iovec iov{stack_buf, sizeof(stack_buf)};
    T_CHECK(io_uring_register_buffers(&ring, &iov, 1) == 0);
    void* mem =
        sys::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T_CHECK(mem != MAP_FAILED);
    std::memcpy(mem, "parent-mmap-data", 16);
    g_parent_mmap = static_cast<char*>(mem);
    const char* child_argv[] = {"iso", "child", nullptr};
    const pid_t child = sys::spawn("iso", child_argv);
    T_CHECK(child > 0);
    int status = 0;
    T_CHECK(sys::waitpid(child, &status, 0) == child);
    T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    std::memcpy(g_parent_buf_after, stack_buf, sizeof(stack_buf));
    // The parent's own ring and buffer are untouched and still work.
    char check[16];
    const int32_t r = run_one(ring, [&](io_uring_sqe* s) {
        io_uring_prep_read_fixed(s, g_parent_file_fd, stack_buf, 6, 0, 0);
    });
    T_CHECK(r == 6);
    std::memcpy(check, stack_buf, 6);
    T_CHECK(std::memcmp(check, "secret", 6) == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Isolation, NoSqeOrRingSyscallReachesAnotherProcess) {
    test::TempRoot root;
    root.write("secret.txt", "secret contents\n");
    root.write("child.txt", "child's own file\n");
    ASSERT_EQ(exit_code(test::run_program(root.path(), "iso", prog_isolation)), 0);
    const ChildResults& c = g_child;
    EXPECT_EQ(c.read_parent_fd, -EBADF);
    EXPECT_EQ(c.enter_parent_ring, -EBADF);
    EXPECT_EQ(c.register_parent_ring, -EBADF);
    EXPECT_EQ(c.read_into_parent_stack, -EFAULT);
    EXPECT_EQ(c.read_into_parent_mmap, -EFAULT);
    EXPECT_EQ(c.write_from_parent_mmap, -EFAULT);
    EXPECT_EQ(c.read_fixed_unregistered, -EFAULT);
    EXPECT_EQ(c.register_parent_buffer, -EFAULT);
    EXPECT_EQ(c.read_fixed_parent_addr, -EFAULT);
    EXPECT_EQ(c.read_fixed_index_beyond, -EFAULT);
    EXPECT_EQ(c.register_parent_file, -EBADF);
    EXPECT_EQ(c.fixed_file_unregistered_index, -EBADF);
    EXPECT_EQ(c.own_read, 8);
    EXPECT_EQ(std::string(g_parent_buf_after, 16), "parent-secret-xx");  // never written
    EXPECT_EQ(root.read("child-out.txt"), "");  // nothing of the parent's memory leaked out
}

// --- OPENAT through the ring stays inside the sandbox root --------------------------------
struct Escape {
    const char* path;
    int dir;     // 0: AT_FDCWD, 1: a directory fd inside the root
    int expect;  // the errno
    int32_t res = 1;
    int32_t statx_res = 1;  // STATX resolves the same path the same way
};
Escape g_escapes[] = {
    {"../outside.txt", 0, ENOENT},
    {"../../../../../../outside.txt", 0, ENOENT},
    {"/../outside.txt", 0, ENOENT},
    {"sub/../../outside.txt", 0, ENOENT},
    {"../../outside.txt", 1, EXDEV},
    {"/etc/passwd", 0, ENOENT},
    {"../../../../../../etc/passwd", 1, EXDEV},
    {"abs-link", 0, ENOENT},                   // -> OUTSIDE/outside.txt (absolute symlink)
    {"rel-link", 0, ENOENT},                   // -> ../<outside dir>/outside.txt
    {"dir-link/outside.txt", 0, ENOENT},       // -> the outside directory
    {"host-root-link/etc/passwd", 0, ENOENT},  // -> /proc/self/root (a magic link on the host)
    {"/proc/self/root/etc/passwd", 0, ENOENT},
    {"/proc/self/root/../../outside.txt", 0, ENOENT},
    {"/proc/self/cwd/../outside.txt", 0, ENOENT},
    {"/proc/1/cwd/../../etc/passwd", 0, ENOENT},
    {"/proc/../../outside.txt", 0, ENOENT},
};
int32_t g_inside_res = 0;
int32_t g_inside_statx_res = 1;
uint64_t g_inside_statx_size = 0;
int32_t g_link_statx_res = 1;  // abs-link itself (AT_SYMLINK_NOFOLLOW): inside the root
uint32_t g_link_statx_type = 0;

int prog_openat_escapes(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, 0) == 0);
    const int dir = sys::open("/sub", O_RDONLY | O_DIRECTORY);
    T_CHECK(dir >= 0);
    for (Escape& e : g_escapes) {
        e.res = run_one(ring, [&](io_uring_sqe* s) {
            io_uring_prep_openat(s, e.dir != 0 ? dir : AT_FDCWD, e.path, O_RDONLY, 0);
        });
        if (e.res >= 0) {
            // Opened: it must be a file inside the root (none of these names is one).
            char buf[64] = {};
            sys::read(e.res, buf, sizeof(buf) - 1);
            io::printf(2, "%s opened: '%s'\n", e.path, buf);
            sys::close(e.res);
        }
        struct statx st {};
        e.statx_res = run_one(ring, [&](io_uring_sqe* s) {
            io_uring_prep_statx(s, e.dir != 0 ? dir : AT_FDCWD, e.path, 0, STATX_BASIC_STATS, &st);
        });
    }
    struct statx st {};
    g_inside_statx_res = run_one(ring, [&](io_uring_sqe* s) {
        io_uring_prep_statx(s, AT_FDCWD, "sub/../inside.txt", 0, STATX_SIZE, &st);
    });
    g_inside_statx_size = st.stx_size;
    g_link_statx_res = run_one(ring, [&](io_uring_sqe* s) {
        io_uring_prep_statx(s, AT_FDCWD, "abs-link", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &st);
    });
    g_link_statx_type = st.stx_mode & S_IFMT;
    g_inside_res = run_one(ring, [&](io_uring_sqe* s) {
        io_uring_prep_openat(s, AT_FDCWD, "sub/../inside.txt", O_RDONLY, 0);
    });
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Isolation, OpenatAndStatxThroughTheRingCannotLeaveTheSandbox) {
    test::TempRoot outside;
    outside.write("outside.txt", "OUTSIDE\n");
    test::TempRoot root;
    root.write("inside.txt", "inside\n");
    std::filesystem::create_directory(root.path() + "/sub");
    std::filesystem::create_symlink(outside.path() + "/outside.txt", root.path() + "/abs-link");
    std::filesystem::create_symlink(
        "../" + std::filesystem::path(outside.path()).filename().string() + "/outside.txt",
        root.path() + "/rel-link");
    std::filesystem::create_directory_symlink(outside.path(), root.path() + "/dir-link");
    std::filesystem::create_directory_symlink("/proc/self/root", root.path() + "/host-root-link");
    ASSERT_EQ(exit_code(test::run_program(root.path(), "escapes", prog_openat_escapes)), 0);
    for (const Escape& e : g_escapes) {
        EXPECT_LT(e.res, 0) << e.path << " opened";
        // ENOENT: resolved inside the root, where no such file is (absolute symlinks and
        // /proc/self/root lead back to the root); EXDEV: '..' above a directory fd (resolved
        // beneath it, kernel/vfs.h).
        EXPECT_EQ(e.res, -e.expect) << e.path;
        EXPECT_EQ(e.statx_res, -e.expect) << "STATX " << e.path;
    }
    EXPECT_GE(g_inside_res, 0);  // '..' inside the root still works
    EXPECT_EQ(g_inside_statx_res, 0);
    EXPECT_EQ(g_inside_statx_size, 7u);
    EXPECT_EQ(g_link_statx_res, 0);
    EXPECT_EQ(g_link_statx_type, static_cast<uint32_t>(S_IFLNK));
}

// --- Set-id bits: a toy process never creates a set-user-ID or set-group-ID file ---------
struct SetIdResults {
    int open_fd = -1, mkdir_res = -1, ring_res = -1;
} g_setid;

int prog_setid(int, char**) {
    g_setid.open_fd = sys::open("/suid-open", O_CREAT | O_WRONLY, 06755);
    if (g_setid.open_fd >= 0) sys::close(g_setid.open_fd);
    g_setid.mkdir_res = sys::mkdir("/sgid-dir", 02755 | S_ISUID);
    io_uring ring;
    T_CHECK(io_uring_queue_init(4, &ring, 0) == 0);
    const char path[] = "/suid-ring";  // on the stack: the process's memory
    g_setid.ring_res = run_one(ring, [&](io_uring_sqe* sqe) {
        io_uring_prep_openat(sqe, AT_FDCWD, path, O_CREAT | O_WRONLY, 04755 | S_ISGID);
    });
    if (g_setid.ring_res >= 0) sys::close(g_setid.ring_res);
    io_uring_queue_exit(&ring);
    return 0;
}

TEST(Isolation, CreatedFilesNeverCarrySetIdBits) {
    test::TempRoot root;
    for (const char* executor : {"uring", "threads"}) {
        g_setid = {};
        std::filesystem::remove(root.path() + "/suid-open");
        std::filesystem::remove(root.path() + "/suid-ring");
        std::filesystem::remove(root.path() + "/sgid-dir");
        kernel::KernelConfig config;
        config.executor = executor;
        ASSERT_EQ(exit_code(test::run_program(root.path(), "setid", prog_setid, {}, config)), 0)
            << executor;
        ASSERT_GE(g_setid.open_fd, 0) << executor;
        ASSERT_EQ(g_setid.mkdir_res, 0) << executor;
        ASSERT_GE(g_setid.ring_res, 0) << executor;
        for (const char* name : {"/suid-open", "/suid-ring", "/sgid-dir"}) {
            struct stat st {};
            ASSERT_EQ(::stat((root.path() + name).c_str(), &st), 0) << name;
            EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u)
                << executor << " " << name << " mode " << std::oct << st.st_mode;
            EXPECT_NE(st.st_mode & S_IXUSR, 0u) << name;  // the permission bits still pass
        }
    }
}

// --- A ring shared through an inherited fd: whose context a request runs in --------------
// spawn copies fds 0-2, so a ring set up on fd 0 is the child's too. As in Linux, a request
// runs in its submitter's context (its memory, its fd table), and a process's exit cancels
// what it submitted while the ring lives on for the others.
io_uring g_shared;  // the creator's ring (a living creator's mapping: one host memory)

bool exists(const char* path) {
    struct stat st {};
    return sys::stat(path, &st) == 0;
}

int await_file(const char* path) {
    for (int i = 0; i < 10000 && !exists(path); ++i) sys::sleep_ns(1'000'000);
    return exists(path) ? 0 : -1;
}

int create_file(const char* path) {
    const int fd = sys::open(path, O_WRONLY | O_CREAT, 0644);
    return fd < 0 ? fd : sys::close(fd);
}

// An orphan is not reparented to pid 1 (nobody can wait for it): it reports its exit code
// here and then creates /done (atomic: the file is no synchronization TSan can see).
std::atomic<int> g_orphan_rc{-1};
int report_orphan(int rc) {
    g_orphan_rc = rc;
    create_file("/done");
    return rc;
}

// Once the creator was reaped and its thread joined (its Process freed), lets the orphan go;
// then waits for the orphan's report.
int reap_then_release_orphan(pid_t creator) {
    int status = 0;
    T_CHECK(sys::waitpid(creator, &status, 0) == creator);
    T_CHECK(exit_code(status) == 0);
    sys::sleep_ns(150'000'000);  // the reaper joins its thread within 50 ms
    T_CHECK(create_file("/reaped") == 0);
    T_CHECK(await_file("/done") == 0);
    return g_orphan_rc;
}

// A READ and an OPENAT by the child on the shared ring: its own stack buffer, its own fd 3
// (the creator's fd 3 is another file), the opened fd lands in its own table; a CLOSE by it
// closes its own fd.
struct ChildContext {
    int32_t read_res = 1;
    char read_data[16] = {};
    int32_t openat_res = -1;
    ssize_t read_opened = -1;
    char opened_data[16] = {};
    int32_t close_res = 1;
    int closed_fd_read = 1;  // a read of the closed fd in the child's table
} g_ctx;

int child_use_shared_ring() {
    const int own = sys::open("/child.txt", O_RDONLY);
    T_CHECK(own == 3);  // the creator's fd 3 is /creator.txt
    char buf[16] = {};
    g_ctx.read_res = run_one(
        g_shared, [&](io_uring_sqe* s) { io_uring_prep_read(s, own, buf, sizeof(buf) - 1, 0); });
    std::memcpy(g_ctx.read_data, buf, sizeof(buf));
    g_ctx.openat_res = run_one(g_shared, [&](io_uring_sqe* s) {
        io_uring_prep_openat(s, AT_FDCWD, "/child.txt", O_RDONLY, 0);
    });
    if (g_ctx.openat_res >= 0) {
        g_ctx.read_opened =
            sys::read(g_ctx.openat_res, g_ctx.opened_data, sizeof(g_ctx.opened_data) - 1);
        g_ctx.close_res =
            run_one(g_shared, [&](io_uring_sqe* s) { io_uring_prep_close(s, g_ctx.openat_res); });
        char c;
        g_ctx.closed_fd_read = static_cast<int>(sys::read(g_ctx.openat_res, &c, 1));
    }
    return 0;
}

int prog_shared_ring_context(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "child") == 0) return child_use_shared_ring();
    T_CHECK(sys::close(0) == 0);
    T_CHECK(io_uring_queue_init(8, &g_shared, 0) == 0);
    T_CHECK(g_shared.ring_fd == 0);
    T_CHECK(sys::open("/creator.txt", O_RDONLY) == 3);
    const char* argv_child[] = {"ctx", "child", nullptr};
    const pid_t child = sys::spawn("ctx", argv_child);
    T_CHECK(child > 0);
    int status = 0;
    T_CHECK(sys::waitpid(child, &status, 0) == child);
    T_CHECK(exit_code(status) == 0);
    char mine[16] = {};
    T_CHECK(sys::read(3, mine, sizeof(mine) - 1) > 0);  // the creator's fd 3 is untouched
    T_CHECK(std::strncmp(mine, "creator", 7) == 0);
    return 0;
}

TEST(SharedRing, AChildsRequestsOnAnInheritedRingUseTheChildsMemoryAndFds) {
    test::TempRoot root;
    root.write("creator.txt", "creator's file\n");
    root.write("child.txt", "child's file\n");
    g_ctx = ChildContext{};
    ASSERT_EQ(exit_code(test::run_program(root.path(), "ctx", prog_shared_ring_context)), 0);
    EXPECT_EQ(g_ctx.read_res, 13);
    EXPECT_EQ(std::string(g_ctx.read_data), "child's file\n");
    EXPECT_GE(g_ctx.openat_res, 4);
    EXPECT_EQ(g_ctx.read_opened, 13);  // the fd OPENAT gave is in the child's table
    EXPECT_EQ(std::string(g_ctx.opened_data), "child's file\n");
    EXPECT_EQ(g_ctx.close_res, 0);
    EXPECT_EQ(g_ctx.closed_fd_read, -EBADF);
}

// The creator submits TIMEOUT -> OPENAT(O_CREAT) and a NOP drained behind them, spawns a
// child (which inherits the ring on fd 0) and exits; pid 1 reaps it. Then the child submits on
// the ring: its READ must run in its own context (under ASan: no use of the freed creator), and
// the creator's requests must have been cancelled at its exit (the OPENAT not create the file
// when the timeout would have fired; the drained NOP not wait for them).
struct Orphaned {
    int32_t read_res = 1;
    char read_data[16] = {};
    int32_t timeout_res = 1, openat_res = 1, drained_res = 1;
    int cqes = 0;
} g_orphaned;
constexpr uint64_t kTimeoutTag = 0x71, kOpenatTag = 0x72, kReadTag = 0x73, kDrainTag = 0x74;

io_uring_params g_shared_params;  // as the creator's io_uring_setup filled them
io_uring g_orphan_ring;           // the child's own mapping of the inherited ring

int orphan_child() {
    T_CHECK(await_file("/reaped") == 0);
    // The creator's mappings went with it (as its mm would on Linux): the child maps the ring
    // it inherited on fd 0 itself.
    T_CHECK(io_uring_queue_mmap(0, &g_shared_params, &g_orphan_ring) == 0);
    const int own = sys::open("/child.txt", O_RDONLY);
    T_CHECK(own >= 0);
    char buf[16] = {};
    io_uring_sqe* sqe = io_uring_get_sqe(&g_orphan_ring);
    T_CHECK(sqe != nullptr);
    io_uring_prep_read(sqe, own, buf, sizeof(buf) - 1, 0);
    sqe->user_data = kReadTag;
    T_CHECK(io_uring_submit(&g_orphan_ring) == 1);
    // The creator's three CQEs (posted at its exit) and the READ's.
    for (int i = 0; i < 4; ++i) {
        io_uring_cqe* cqe = nullptr;
        __kernel_timespec ts{3, 0};
        if (io_uring_wait_cqe_timeout(&g_orphan_ring, &cqe, &ts) != 0) break;
        ++g_orphaned.cqes;
        if (cqe->user_data == kReadTag) g_orphaned.read_res = cqe->res;
        if (cqe->user_data == kTimeoutTag) g_orphaned.timeout_res = cqe->res;
        if (cqe->user_data == kOpenatTag) g_orphaned.openat_res = cqe->res;
        if (cqe->user_data == kDrainTag) g_orphaned.drained_res = cqe->res;
        io_uring_cqe_seen(&g_orphan_ring, cqe);
    }
    std::memcpy(g_orphaned.read_data, buf, sizeof(buf));
    sys::sleep_ns(400'000'000);  // past the creator's timeout
    return 0;
}

int orphan_creator() {
    T_CHECK(sys::close(0) == 0);
    g_shared_params = io_uring_params{};
    T_CHECK(io_uring_queue_init_params(8, &g_shared, &g_shared_params) == 0);
    T_CHECK(g_shared.ring_fd == 0);
    static __kernel_timespec ts{0, 300'000'000};
    io_uring_sqe* t = io_uring_get_sqe(&g_shared);
    io_uring_prep_timeout(t, &ts, 0, 0);
    t->user_data = kTimeoutTag;
    t->flags |= IOSQE_IO_HARDLINK;  // the OPENAT runs when the timeout fires
    io_uring_sqe* o = io_uring_get_sqe(&g_shared);
    io_uring_prep_openat(o, AT_FDCWD, "/left-behind", O_CREAT | O_WRONLY, 0644);
    o->user_data = kOpenatTag;
    io_uring_sqe* d = io_uring_get_sqe(&g_shared);  // waits behind the chain (IO_DRAIN)
    io_uring_prep_nop(d);
    d->flags |= IOSQE_IO_DRAIN;
    d->user_data = kDrainTag;
    T_CHECK(io_uring_submit(&g_shared) == 3);
    const char* argv_child[] = {"orphan", "child", nullptr};
    T_CHECK(sys::spawn("orphan", argv_child) > 0);
    return 0;  // exits with the chain in flight, the ring still the child's
}

int prog_orphaned_ring(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "creator") == 0) return orphan_creator();
    if (argc > 1 && std::strcmp(argv[1], "child") == 0) return report_orphan(orphan_child());
    const char* argv_creator[] = {"orphan", "creator", nullptr};
    const pid_t creator = sys::spawn("orphan", argv_creator);
    T_CHECK(creator > 0);
    return reap_then_release_orphan(creator);
}

TEST(SharedRing, ACreatorsExitCancelsItsRequestsAndTheChildUsesTheRingInItsOwnContext) {
    test::TempRoot root;
    root.write("child.txt", "child's file\n");
    g_orphaned = Orphaned{};
    ASSERT_EQ(exit_code(test::run_program(root.path(), "orphan", prog_orphaned_ring)), 0);
    EXPECT_EQ(g_orphaned.cqes, 4);
    EXPECT_EQ(g_orphaned.timeout_res, -ECANCELED);
    EXPECT_EQ(g_orphaned.openat_res, -ECANCELED);
    EXPECT_EQ(g_orphaned.drained_res, -ECANCELED);
    EXPECT_EQ(g_orphaned.read_res, 13);
    EXPECT_EQ(std::string(g_orphaned.read_data), "child's file\n");
    EXPECT_FALSE(std::filesystem::exists(root.path() + "/left-behind"));
}

// An SQPOLL ring submits as its creator; once the creator is gone, io_uring_enter on it
// answers -EOWNERDEAD (Linux: its SQ thread died with the creator).
int g_sqpoll_enter = 1;

int prog_sqpoll_orphan(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "child") == 0) {
        if (await_file("/reaped") != 0) return report_orphan(1);
        g_sqpoll_enter = sys::io_uring_enter(0, 0, 0, IORING_ENTER_SQ_WAKEUP, nullptr, 0);
        return report_orphan(0);
    }
    if (argc > 1 && std::strcmp(argv[1], "creator") == 0) {
        T_CHECK(sys::close(0) == 0);
        io_uring_params p{};
        p.flags = IORING_SETUP_SQPOLL;
        T_CHECK(io_uring_queue_init_params(8, &g_shared, &p) == 0);
        T_CHECK(g_shared.ring_fd == 0);
        const char* argv_child[] = {"sq", "child", nullptr};
        T_CHECK(sys::spawn("sq", argv_child) > 0);
        return 0;
    }
    const char* argv_creator[] = {"sq", "creator", nullptr};
    const pid_t creator = sys::spawn("sq", argv_creator);
    T_CHECK(creator > 0);
    return reap_then_release_orphan(creator);
}

TEST(SharedRing, AnSqpollRingWhoseCreatorIsGoneAnswersEownerdead) {
    test::TempRoot root;
    g_sqpoll_enter = 1;
    ASSERT_EQ(exit_code(test::run_program(root.path(), "sq", prog_sqpoll_orphan)), 0);
    EXPECT_EQ(g_sqpoll_enter, -EOWNERDEAD);
}

// --- Limits: rings (EMFILE), ops in flight (EAGAIN), registered bytes (ENOMEM) ------------
struct LimitResults {
    int third_ring = 1, ring_after_close = 1;
    long long status_rings = -1, status_rings_max = -1;
    int submitted_first = -1, submitted_full = 1, submitted_after_reap = -1;
    long long status_inflight = -1;
    int reg_at_limit = 1, reg_over_limit = 1, reg_other_ring_over = 1, reg_after_unregister = 1;
    long long status_reg_bytes = -1, status_reg_max = -1;
} g_limits;

int prog_limits(int, char**) {
    LimitResults& L = g_limits;
    // --max-rings 2
    io_uring a, b, c;
    T_CHECK(io_uring_queue_init(8, &a, 0) == 0);
    T_CHECK(io_uring_queue_init(8, &b, 0) == 0);
    L.third_ring = io_uring_queue_init(8, &c, 0);
    L.status_rings = self_status("Rings");
    L.status_rings_max = self_status("RingsMax");
    io_uring_queue_exit(&b);
    L.ring_after_close = io_uring_queue_init(8, &b, 0);
    T_CHECK(L.ring_after_close == 0);
    // --max-inflight 4: eight 200 ms timeouts; four go in, the rest wait for room.
    __kernel_timespec ts{0, 200'000'000};
    for (int i = 0; i < 8; ++i) io_uring_prep_timeout(io_uring_get_sqe(&a), &ts, 0, 0);
    L.submitted_first = io_uring_submit(&a);
    L.status_inflight = self_status("RingOpsInFlight");
    L.submitted_full = io_uring_submit(&a);
    io_uring_cqe* cqe = nullptr;
    for (int i = 0; i < 4; ++i) {
        T_CHECK(io_uring_wait_cqe(&a, &cqe) == 0);
        T_CHECK(cqe->res == -ETIME);
        io_uring_cqe_seen(&a, cqe);
    }
    L.submitted_after_reap = io_uring_submit(&a);
    for (int i = 0; i < 4; ++i) {
        T_CHECK(io_uring_wait_cqe(&a, &cqe) == 0);
        io_uring_cqe_seen(&a, cqe);
    }
    // --max-registered-bytes 64K, counted over both rings.
    void* mem =
        sys::mmap(nullptr, 128 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T_CHECK(mem != MAP_FAILED);
    char* m = static_cast<char*>(mem);
    iovec two[2] = {{m, 32 << 10}, {m + (32 << 10), 32 << 10}};
    L.reg_at_limit = io_uring_register_buffers(&a, two, 2);
    L.status_reg_bytes = self_status("RegisteredBufferBytes");
    L.status_reg_max = self_status("RegisteredBufferBytesMax");
    iovec one{m + (64 << 10), 1};  // one byte still charges a whole page
    L.reg_other_ring_over = io_uring_register_buffers(&b, &one, 1);
    T_CHECK(io_uring_unregister_buffers(&a) == 0);
    iovec three[3] = {{m, 32 << 10}, {m + (32 << 10), 32 << 10}, {m + (64 << 10), 32 << 10}};
    L.reg_over_limit = io_uring_register_buffers(&a, three, 3);
    L.reg_after_unregister = io_uring_register_buffers(&b, &one, 1);
    io_uring_queue_exit(&a);
    io_uring_queue_exit(&b);
    return 0;
}

TEST(Limits, RingsInflightAndRegisteredBytesPerProcess) {
    test::TempRoot root;
    kernel::KernelConfig config;
    config.limits.max_rings = 2;
    config.limits.max_inflight = 4;
    config.limits.max_registered_bytes = 64 << 10;
    ASSERT_EQ(exit_code(test::run_program(root.path(), "limits", prog_limits, {}, config)), 0);
    const LimitResults& L = g_limits;
    EXPECT_EQ(L.third_ring, -EMFILE);
    EXPECT_EQ(L.status_rings, 2);
    EXPECT_EQ(L.status_rings_max, 2);
    EXPECT_EQ(L.ring_after_close, 0);
    EXPECT_EQ(L.submitted_first, 4);
    EXPECT_EQ(L.status_inflight, 4);
    EXPECT_EQ(L.submitted_full, -EAGAIN);
    EXPECT_EQ(L.submitted_after_reap, 4);
    EXPECT_EQ(L.reg_at_limit, 0);
    EXPECT_EQ(L.status_reg_bytes, 64 << 10);
    EXPECT_EQ(L.status_reg_max, 64 << 10);
    EXPECT_EQ(L.reg_other_ring_over, -ENOMEM);
    EXPECT_EQ(L.reg_over_limit, -ENOMEM);
    EXPECT_EQ(L.reg_after_unregister, 0);
}

}  // namespace
