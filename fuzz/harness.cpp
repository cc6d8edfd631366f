#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "kernel/kernel.h"
#include "kernel/log.h"
#include "kernel/process.h"
#include "toyos/sys.h"

namespace toyos::fuzz {
namespace {

// Leaked, never destroyed: the parked thread waits on them until the fuzzer's exit.
std::mutex& g_mutex = *new std::mutex;
std::condition_variable& g_cv = *new std::condition_variable;
kernel::Process* g_parked = nullptr;
kernel::Kernel* g_kernel = nullptr;  // never shut down (reachable, so not a leak)
std::string g_host_dir;              // removed at exit

// The parked process: it only lends its identity. It waits on a host condition variable,
// never in a syscall, so the fuzzer's thread is the only one calling in as this process.
int fuzz_host_main(int, char**) {
    std::unique_lock lock(g_mutex);
    g_parked = kernel::current_process();
    g_cv.notify_all();
    g_cv.wait(lock, [] { return false; });
    return 0;
}

// A second process, the victim: it maps memory of its own, fills it with a pattern and parks.
// Inputs may hand its addresses to the kernel (pick_addr); no input may ever change them, for
// a toy process's syscalls and SQEs reach only its own memory (end_input checks the pattern).
kernel::Process* g_victim = nullptr;
unsigned char* g_victim_memory = nullptr;

unsigned char victim_byte(size_t i) {
    return static_cast<unsigned char>(i * 131 + 7);
}

int fuzz_victim_main(int, char**) {
    void* mem = sys::mmap(nullptr, FuzzProcess::kVictimBytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem != MAP_FAILED) {
        auto* bytes = static_cast<unsigned char*>(mem);
        for (size_t i = 0; i < FuzzProcess::kVictimBytes; ++i) bytes[i] = victim_byte(i);
    }
    std::unique_lock lock(g_mutex);
    g_victim = kernel::current_process();
    g_victim_memory = mem == MAP_FAILED ? nullptr : static_cast<unsigned char*>(mem);
    g_cv.notify_all();
    g_cv.wait(lock, [] { return false; });
    return 0;
}

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "fuzz harness: %s\n", what);
    std::abort();
}

}  // namespace

FuzzProcess& FuzzProcess::get() {
    // Leaked on purpose: the kernel's threads outlive main()'s return, and the fuzzer exits
    // with them still parked.
    static FuzzProcess* fp = [] {
        auto* p = new FuzzProcess;
        p->boot();
        return p;
    }();
    kernel::set_current_process(g_parked);
    return *fp;
}

void FuzzProcess::boot() {
    char tmpl[] = "/tmp/toyos-fuzz-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) die("mkdtemp");
    dir_ = tmpl;
    root_ = dir_ + "/root";
    outside_ = dir_ + "/outside";
    lay_out_sandbox();
    g_host_dir = dir_;
    std::atexit([] {
        std::error_code ec;
        std::filesystem::remove_all(g_host_dir, ec);
    });

    kernel::init_logging(kernel::log_level_from_env("off"));
    kernel::ProgramCatalog catalog;
    catalog.add_builtin("fuzz-host", fuzz_host_main, "the fuzz targets' parked process");
    catalog.add_builtin("fuzz-victim", fuzz_victim_main,
                        "another process, whose memory no input may change");
    kernel::KernelConfig config;
    config.root = root_;
    config.async_workers = 2;
    // Throughput: a reactor polling for 200 us after each hand-off takes the CPU the fuzzer's
    // thread needs (the polling paths have their own tests, tests/ring/test_spin_wait.cpp).
    config.spin_ns = 0;
    // A hostile tail on a 32768-entry ring takes at most 1024 requests per enter (and fuzzes
    // the limit's EAGAIN), instead of 25 MB of requests per input; a generated chain
    // (fuzz_enter's write_chain) fills a 1024-entry SQ: longer than a shared thread's inline
    // slice and the pool's, so the continuation work re-queues itself.
    config.limits.max_inflight = 1024;
    auto booted = kernel::Kernel::boot(config, std::move(catalog));
    if (booted.is_error()) die("kernel boot failed");
    g_kernel = booted.value().release();
    if (g_kernel->spawn(nullptr, "fuzz-host", {"fuzz-host"}).is_error()) die("spawn failed");
    if (g_kernel->spawn(nullptr, "fuzz-victim", {"fuzz-victim"}).is_error())
        die("spawn of the victim failed");
    {
        std::unique_lock lock(g_mutex);
        g_cv.wait(lock, [] { return g_parked != nullptr && g_victim != nullptr; });
    }
    if (g_victim_memory == nullptr) die("the victim's sys::mmap failed");
    kernel::set_current_process(g_parked);
    // No console: fds 0-2 would be the fuzzer's own stdout and stderr, and an input that
    // WRITEs to them at an offset of gigabytes fills the fuzzer's log with a sparse hole.
    for (int fd = 0; fd <= 2; ++fd) sys::close(fd);

    const size_t bytes = kScratchBytes + kPrivateBytes;
    void* mem =
        sys::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) die("sys::mmap of the scratch memory failed");
    scratch_ = static_cast<unsigned char*>(mem) + kPrivateBytes;
    // Memory the process has but may not use every way: the kernel must answer -EFAULT
    // without touching it (a PROT_NONE read used to kill the kernel).
    void* none = sys::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void* readonly = sys::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (none == MAP_FAILED || readonly == MAP_FAILED) die("sys::mmap of the guarded pages failed");
    prot_none_ = static_cast<unsigned char*>(none);
    read_only_ = static_cast<unsigned char*>(readonly);
    make_fixtures();
}

void FuzzProcess::lay_out_sandbox() {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(root_ + "/d", ec)) fs::remove_all(root_ + "/d", ec);
    fs::create_directories(root_ + "/d", ec);
    fs::create_directories(outside_, ec);
    const std::pair<std::string, const char*> files[] = {
        {outside_ + "/secret", kSecret},
        {root_ + "/hello.txt", "hello from the fuzz sandbox\n"},
        {root_ + "/d/file", "a file in a directory\n"}};
    for (const auto& [path, content] : files)
        if (!fs::is_regular_file(fs::symlink_status(path, ec))) {
            fs::remove_all(path, ec);
            std::ofstream(path) << content;
        }
    const std::pair<const char*, std::string> links[] = {{"/escape", "../outside/secret"},
                                                         {"/absolute-escape", outside_ + "/secret"},
                                                         {"/loop", "loop"}};
    for (const auto& [name, target] : links)
        if (!fs::is_symlink(root_ + name, ec)) {
            fs::remove_all(root_ + name, ec);
            fs::create_symlink(target, root_ + name, ec);
        }
}

void FuzzProcess::restore_sandbox(unsigned sweep_every) {
    if (++restores_ % sweep_every == 0) {
        namespace fs = std::filesystem;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(root_, ec)) {
            const std::string name = e.path().filename();
            if (name != "d" && name != "hello.txt" && name != "escape" &&
                name != "absolute-escape" && name != "loop")
                fs::remove_all(e.path(), ec);
        }
    }
    lay_out_sandbox();
}

void FuzzProcess::make_fixtures() {
    auto* path = reinterpret_cast<char*>(private_area());
    auto* addr = reinterpret_cast<sockaddr_in*>(private_area() + 256);
    auto* len = reinterpret_cast<socklen_t*>(private_area() + 512);

    std::snprintf(path, 64, "/hello.txt");
    fixtures_[kFile] = sys::open(path, O_RDWR);
    std::snprintf(path, 64, "/d");
    fixtures_[kDir] = sys::open(path, O_RDONLY | O_DIRECTORY);

    fixtures_[kListener] = sys::socket(AF_INET, SOCK_STREAM, 0);
    *addr = sockaddr_in{};
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sys::bind(fixtures_[kListener], reinterpret_cast<sockaddr*>(addr), sizeof *addr) < 0 ||
        sys::listen(fixtures_[kListener], 16) < 0)
        die("listener");
    *len = sizeof *addr;
    if (sys::getsockname(fixtures_[kListener], reinterpret_cast<sockaddr*>(addr), len) < 0)
        die("getsockname");
    fixtures_[kTcpClient] = sys::socket(AF_INET, SOCK_STREAM, 0);
    if (sys::connect(fixtures_[kTcpClient], reinterpret_cast<sockaddr*>(addr), sizeof *addr) < 0)
        die("connect");
    fixtures_[kTcpServer] = sys::accept(fixtures_[kListener], nullptr, nullptr);

    fixtures_[kUdp] = sys::socket(AF_INET, SOCK_DGRAM, 0);
    addr->sin_port = 0;
    if (sys::bind(fixtures_[kUdp], reinterpret_cast<sockaddr*>(addr), sizeof *addr) < 0)
        die("udp bind");
    fixtures_[kEventfd] = sys::eventfd(0, 0);

    auto& fds = g_parked->fds();
    for (unsigned i = 0; i < kFixtureCount; ++i) {
        if (fixtures_[i] < 0) die("a fixture could not be opened");
        fixture_files_[i] = fds.get(fixtures_[i]).value().get();
    }
}

void FuzzProcess::close_fixtures() {
    for (int& fd : fixtures_) {
        sys::close(fd);
        fd = -1;
    }
}

uint64_t FuzzProcess::pick_addr(FuzzInput& in) const {
    const uint8_t how = in.u8();
    const auto base = reinterpret_cast<uint64_t>(scratch_);
    if (how >= 240) {  // 1 in 16: the PROT_NONE page or the read-only one
        const auto page = reinterpret_cast<uint64_t>((how & 1) ? prot_none_ : read_only_);
        return page + in.u16() % 4096;
    }
    switch (how % 8) {
        case 0:
            return 0;
        case 1:
            return in.u64();  // anything: the kernel must answer -EFAULT or succeed
        case 2:
            return base + ((in.u16() % (kScratchBytes / 4096)) * 4096);  // page-aligned
        case 3:
            return base + kScratchBytes - (in.u8() % 64);  // runs past the mapping's end
        case 4:  // another process's memory: -EFAULT, never written
            return reinterpret_cast<uint64_t>(g_victim_memory) + in.u16() % kVictimBytes;
        default:
            return base + in.u16() % kScratchBytes;
    }
}

void FuzzProcess::begin_input(FuzzInput& in) {
    std::memset(scratch_, 0, kScratchBytes);
    const size_t n = in.u16() % 4096;
    in.take(scratch_, n);
}

void FuzzProcess::end_input() {
    auto& fds = g_parked->fds();
    bool fixtures_intact = true;
    for (unsigned i = 0; i < kFixtureCount; ++i) {
        auto f = fds.get(fixtures_[i]);
        if (f.is_error() || f.value().get() != fixture_files_[i]) fixtures_intact = false;
    }
    for (const auto& [fd, file] : fds.snapshot()) {
        bool is_fixture = false;
        for (unsigned i = 0; i < kFixtureCount; ++i)
            if (fixtures_[i] == fd && file.get() == fixture_files_[i]) is_fixture = true;
        if (!is_fixture || !fixtures_intact) sys::close(fd);
    }
    if (!fixtures_intact) make_fixtures();
    check_victim();
}

void FuzzProcess::check_victim() const {
    for (size_t i = 0; i < kVictimBytes; ++i)
        if (g_victim_memory[i] != victim_byte(i)) {
            std::fprintf(stderr,
                         "fuzz harness: byte %zu of another process's memory changed (%#x, was "
                         "%#x): the kernel wrote where the caller may not\n",
                         i, g_victim_memory[i], victim_byte(i));
            std::abort();
        }
}

}  // namespace toyos::fuzz

// The kernel is never shut down (see get()), so at exit LeakSanitizer scans it alive. Boost's
// lock-free queues keep their free-list nodes behind tagged pointers (a tag in the high bits),
// which the scan cannot follow: those nodes look leaked although the queue still owns them.
extern "C" const char* __lsan_default_suppressions() {
    return "leak:boost::lockfree::detail::freelist_stack\n";
}
