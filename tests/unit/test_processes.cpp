// Processes, the gate, checked user memory and routing, with toy programs on a booted kernel.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kernel/kernel.h"
#include "kernel/log.h"
#include "toyos/sys.h"

using namespace toyos;
namespace fs = std::filesystem;

namespace {

class KernelTest : public ::testing::Test {
  protected:
    void SetUp() override {
        kernel::init_logging(kernel::log_level_from_env("warn"));
        char tmpl[] = "/tmp/toyos-proc-XXXXXX";
        root_ = ::mkdtemp(tmpl);
        std::ofstream(root_ + "/f.txt") << "0123456789";
    }
    void TearDown() override { fs::remove_all(root_); }

    // Boots with `programs` and runs the first as pid 1; returns its wait status.
    int run(std::vector<std::pair<const char*, kernel::ProgramMain>> programs,
            kernel::KernelConfig config = {}) {
        kernel::ProgramCatalog catalog;
        for (auto& [name, main] : programs) catalog.add_builtin(name, main, "");
        config.root = root_;
        auto k = kernel::Kernel::boot(config, std::move(catalog));
        if (k.is_error()) return -1;
        kernel_ = std::move(k.value());
        auto st = kernel_->run(programs[0].first, {programs[0].first});
        return st.ok() ? st.value() : -st.error();
    }

    std::string root_;
    std::unique_ptr<kernel::Kernel> kernel_;
};

// --- exit status, exit(), unwinding ----------------------------------------------------------
int prog_returns_7(int, char**) {
    return 7;
}

std::atomic<bool> g_destructor_ran{false};
struct Guard {
    ~Guard() { g_destructor_ran = true; }
};
[[noreturn]] void nested_exit() {
    sys::exit(42);
}
int prog_exit_nested(int, char**) {
    Guard g;
    nested_exit();
}

TEST_F(KernelTest, ExitStatusReturnAndExit) {
    EXPECT_EQ(WEXITSTATUS(run({{"p", prog_returns_7}})), 7);
    g_destructor_ran = false;
    const int st = run({{"p", prog_exit_nested}});
    EXPECT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 42);
    EXPECT_TRUE(g_destructor_ran);  // exit unwinds the program's frames
}

// --- spawn, waitpid, getpid/getppid, kill ------------------------------------------------------
int prog_child(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "sleep") == 0) {
        sys::sleep_ns(30'000'000'000);
        return 9;
    }
    return sys::getppid() == 1 ? 11 : 12;
}

int prog_parent(int, char**) {
    if (sys::getpid() != 1 || sys::getppid() != 0) return 1;
    const char* argv[] = {"child", nullptr};
    const pid_t a = sys::spawn("child", argv);
    if (a <= 1) return 2;
    int st = 0;
    if (sys::waitpid(a, &st, 0) != a || WEXITSTATUS(st) != 11) return 3;
    if (sys::waitpid(a, &st, 0) != -ECHILD) return 4;  // reaped already
    const char* sleeper[] = {"child", "sleep", nullptr};
    const pid_t b = sys::spawn("child", sleeper);
    if (sys::waitpid(b, &st, WNOHANG) != 0) return 5;  // still running
    if (sys::kill(b, 9) != 0) return 6;
    if (sys::waitpid(-1, &st, 0) != b) return 7;
    if (!WIFSIGNALED(st) || WTERMSIG(st) != 9) return 8;
    if (sys::kill(9999, 9) != -ESRCH) return 9;
    if (sys::spawn("no-such-program", argv) != -ENOENT) return 10;
    if (sys::waitpid(-1, &st, 0) != -ECHILD) return 11;
    return 0;
}

TEST_F(KernelTest, SpawnWaitKill) {
    EXPECT_EQ(WEXITSTATUS(run({{"parent", prog_parent}, {"child", prog_child}})), 0);
}

// --- a process blocked in accept is killed promptly -------------------------------------------
int prog_blocked_accept(int, char**) {
    const int fd = sys::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sys::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    sys::listen(fd, 1);
    sys::accept(fd, nullptr, nullptr);  // nobody connects
    return 3;
}

int prog_kill_blocked(int, char**) {
    const char* argv[] = {"blocked", nullptr};
    const pid_t p = sys::spawn("blocked", argv);
    sys::sleep_ns(50'000'000);
    sys::kill(p, 15);
    int st = 0;
    if (sys::waitpid(p, &st, 0) != p) return 1;
    return WIFSIGNALED(st) && WTERMSIG(st) == 15 ? 0 : 2;
}

TEST_F(KernelTest, KillEndsABlockedAccept) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(WEXITSTATUS(run({{"killer", prog_kill_blocked}, {"blocked", prog_blocked_accept}})),
              0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

// --- foreign pointers get EFAULT, and everyone else keeps going --------------------------------
std::atomic<uintptr_t> g_other_buffer{0};
std::atomic<int> g_worker_reads{0};

int prog_worker(int, char**) {
    // Publishes a buffer it owns, then keeps doing real work.
    void* mine =
        sys::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_other_buffer = reinterpret_cast<uintptr_t>(mine);
    char buf[16];
    for (int i = 0; i < 200; ++i) {
        const int fd = sys::open("/f.txt", O_RDONLY);
        if (fd < 0 || sys::read(fd, buf, 10) != 10 || std::memcmp(buf, "0123456789", 10) != 0)
            return 1;
        sys::close(fd);
        g_worker_reads.fetch_add(1);
    }
    return 0;
}

int prog_bad_pointers(int, char**) {
    const char* argv[] = {"worker", nullptr};
    const pid_t w = sys::spawn("worker", argv);
    while (g_other_buffer.load() == 0) sys::sleep_ns(1'000'000);
    const int fd = sys::open("/f.txt", O_RDONLY);
    char* heap = new char[64];
    auto* foreign = reinterpret_cast<char*>(g_other_buffer.load());
    int failures = 0;
    failures += sys::read(fd, heap, 10) != -EFAULT;
    failures += sys::read(fd, foreign, 10) != -EFAULT;  // another process's memory
    failures += sys::read(fd, reinterpret_cast<char*>(0x10), 10) != -EFAULT;
    failures += sys::write(1, reinterpret_cast<char*>(~0ul - 3), 10) != -EFAULT;
    failures += sys::open(heap, O_RDONLY) != -EFAULT;
    failures += sys::stat("/f.txt", reinterpret_cast<struct stat*>(foreign)) != -EFAULT;
    failures += sys::getdents64(fd, foreign, 100) != -EFAULT;
    char ok[4];
    failures += sys::read(fd, ok, 4) != 4;  // and the kernel still serves us
    delete[] heap;
    // mmap'd memory is the process's own until munmap.
    void* m = sys::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    failures += sys::pread(fd, m, 4, 0) != 4;
    sys::munmap(m, 4096);
    failures += sys::pread(fd, m, 4, 0) != -EFAULT;
    failures += sys::read(123, ok, 1) != -EBADF;
    failures += sys::syscall6(9999) != -ENOSYS;
    int st = 0;
    sys::waitpid(w, &st, 0);
    failures += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return failures;
}

TEST_F(KernelTest, ForeignPointersAreEfaultAndOthersKeepRunning) {
    g_other_buffer = 0;
    g_worker_reads = 0;
    EXPECT_EQ(WEXITSTATUS(run({{"main", prog_bad_pointers}, {"worker", prog_worker}})), 0);
    EXPECT_EQ(g_worker_reads.load(), 200);
}

// --- routing: direct, async and ring give the same results, and are counted -------------------
int prog_read_file(int, char**) {
    char buf[16] = {};
    const int fd = sys::open("/f.txt", O_RDONLY);
    if (sys::read(fd, buf, 4) != 4 || std::memcmp(buf, "0123", 4) != 0) return 1;
    if (sys::pread(fd, buf, 3, 7) != 3 || std::memcmp(buf, "789", 3) != 0) return 2;
    if (sys::read(55, buf, 1) != -EBADF) return 3;
    return sys::close(fd) == 0 ? 0 : 4;
}

TEST_F(KernelTest, RoutesAgreeAndAreCounted) {
    for (kernel::Route route : {kernel::Route::Direct, kernel::Route::Async, kernel::Route::Ring}) {
        kernel::KernelConfig config;
        for (int nr :
             {toyos::abi::TOYOS_SYS_read, toyos::abi::TOYOS_SYS_pread, toyos::abi::TOYOS_SYS_open})
            config.routes[nr] = route;
        EXPECT_EQ(WEXITSTATUS(run({{"r", prog_read_file}}, config)), 0)
            << kernel::route_name(route);
        EXPECT_EQ(kernel_->syscall_count(toyos::abi::TOYOS_SYS_read, route), 2u);
        EXPECT_EQ(kernel_->syscall_count(toyos::abi::TOYOS_SYS_pread, route), 1u);
        EXPECT_EQ(kernel_->syscall_count(toyos::abi::TOYOS_SYS_close, kernel::Route::Direct), 1u);
    }
}

TEST(Routes, ParseRejectsUnknownAndUnroutable) {
    kernel::SyscallHandlerRegistry reg;
    kernel::register_all_syscalls(reg);
    std::array<kernel::Route, kernel::SyscallHandlerRegistry::kMax> routes{};
    EXPECT_EQ(kernel::parse_routes("read=ring,write=async", reg, routes), "");
    EXPECT_EQ(routes[toyos::abi::TOYOS_SYS_read], kernel::Route::Ring);
    EXPECT_EQ(routes[toyos::abi::TOYOS_SYS_write], kernel::Route::Async);
    EXPECT_NE(kernel::parse_routes("frob=ring", reg, routes), "");
    EXPECT_NE(kernel::parse_routes("exit=async", reg, routes), "");
    EXPECT_NE(kernel::parse_routes("read=sideways", reg, routes), "");
    EXPECT_NE(kernel::parse_routes("read", reg, routes), "");
}

}  // namespace
