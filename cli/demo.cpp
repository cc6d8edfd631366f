// `toyos demo`: a tour. Boots the kernel on a temporary sandbox filled with sample files, runs
// a shell script whose processes use files, the ring and sockets, then prints the kernel's
// counters: processes, syscalls by route, and the io_uring subsystem's figures.
#include "cli/demo.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "iouring/manager.h"
#include "iouring/ops/op_def.h"
#include "kernel/kernel.h"
#include "kernel/log.h"

namespace toyos::cli {

const char* kDemoUsage =
    "usage: toyos demo\n"
    "\n"
    "Boots the kernel on a temporary sandbox with sample files, runs a shell script as pid 1\n"
    "(ls, cat, mkdir, cp through the ring with registered buffers, rm, and an echo server\n"
    "with three clients on loopback, all through io_uring), then prints the kernel's\n"
    "counters. The sandbox is removed afterwards.\n";

namespace {

int free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = 7000;
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    ::close(s);
    return port;
}

void fill_sandbox(const std::string& root) {
    namespace fs = std::filesystem;
    fs::create_directories(root + "/docs");
    std::ofstream(root + "/hello.txt") << "hello from inside the toyos sandbox\n";
    std::ofstream(root + "/docs/readme.txt")
        << "Every path a toy process uses resolves inside this directory.\n";
    std::ofstream data(root + "/data.bin", std::ios::binary);
    for (int i = 0; i < 256 * 1024; ++i) data.put(static_cast<char>(i * 131));
}

}  // namespace

int run_demo(kernel::ProgramCatalog catalog) {
    kernel::init_logging(kernel::log_level_from_env("warn"));
    char tmpl[] = "/tmp/toyos-demo-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        std::perror("toyos demo: mkdtemp");
        return 1;
    }
    const std::string root = tmpl;
    fill_sandbox(root);
    const std::string port = std::to_string(free_port());
    const std::string script =
        "echo '$ ls -l /'\n"
        "ls -l /\n"
        "echo '$ cat /hello.txt'\n"
        "cat /hello.txt\n"
        "echo '$ mkdir /backup; cp /data.bin /backup/data.bin   (ring: 4 registered buffers)'\n"
        "mkdir /backup\n"
        "cp /data.bin /backup/data.bin\n"
        "ls -l /backup\n"
        "echo '$ rm /backup/data.bin'\n"
        "rm /backup/data.bin\n"
        "echo '$ echo-server --count 3 " +
        port +
        " & three echo-clients   (ring: ACCEPT/RECV/SEND)'\n"
        "echo-server --count 3 " +
        port +
        " &\n"
        "echo-client 127.0.0.1 " +
        port +
        " first message &\n"
        "echo-client 127.0.0.1 " +
        port +
        " second message &\n"
        "echo-client 127.0.0.1 " +
        port +
        " third message &\n"
        "wait\n"
        "echo '$ cat /../../etc/hostname   (cannot leave the sandbox)'\n"
        "cat /../../etc/hostname\n"
        "true\n";
    std::ofstream(root + "/demo.sh") << script;

    std::printf("== toyos demo: sandbox %s ==\n", root.c_str());
    std::printf("== pid 1 runs: sh /demo.sh ==\n\n");
    std::fflush(stdout);

    kernel::KernelConfig config;
    config.root = root;
    auto booted = kernel::Kernel::boot(config, std::move(catalog));
    if (booted.is_error()) {
        std::fprintf(stderr, "toyos demo: boot failed: %s\n", std::strerror(booted.error()));
        return 1;
    }
    kernel::Kernel& k = *booted.value();
    auto status = k.run("sh", {"sh", "/demo.sh"});
    const int code = status.ok() && WIFEXITED(status.value()) ? WEXITSTATUS(status.value()) : 1;

    std::printf("\n== kernel counters ==\n");
    std::printf("processes started: %llu\n",
                static_cast<unsigned long long>(k.processes_started()));
    std::printf("\n%-16s %10s %10s %10s\n", "syscall", "direct", "async", "ring");
    k.syscalls().for_each([&](int nr, const kernel::SyscallEntry& e) {
        const auto d = k.syscall_count(nr, kernel::Route::Direct);
        const auto a = k.syscall_count(nr, kernel::Route::Async);
        const auto r = k.syscall_count(nr, kernel::Route::Ring);
        if (d + a + r > 0)
            std::printf("%-16s %10llu %10llu %10llu\n", e.name, static_cast<unsigned long long>(d),
                        static_cast<unsigned long long>(a), static_cast<unsigned long long>(r));
    });
    auto& uring = k.io_uring();
    const auto st = uring.stats();
    std::printf("\n== io_uring ==\n");
    std::printf("executor: %s\n", uring.executor().name());
    std::printf("host features: %s\n", uring.host_features().describe().c_str());
    std::printf("rings active: %llu  submissions: %llu  completions: %llu  pending: %llu\n",
                static_cast<unsigned long long>(st.active_rings),
                static_cast<unsigned long long>(st.total_submissions),
                static_cast<unsigned long long>(st.total_completions),
                static_cast<unsigned long long>(st.pending));
    std::printf("toy enters: %llu  overflowed: %llu  cancelled: %llu\n",
                static_cast<unsigned long long>(st.enters),
                static_cast<unsigned long long>(st.overflowed),
                static_cast<unsigned long long>(st.cancelled));
    if (const auto* host = uring.host_executor()) {
        const auto hs = host->stats();
        std::printf(
            "host rings: %u  host enters: %llu  host SQEs: %llu  fixed-buffer ops on "
            "host: %llu\n",
            hs.rings, static_cast<unsigned long long>(hs.host_enters),
            static_cast<unsigned long long>(hs.host_sqes),
            static_cast<unsigned long long>(hs.fixed_buffer_ops));
    }
    std::printf("per opcode:");
    for (int op = 0; op < 256; ++op)
        if (st.op_count[op] > 0)
            std::printf(" %s=%llu", iouring::opcode_name(static_cast<uint8_t>(op)),
                        static_cast<unsigned long long>(st.op_count[op]));
    std::printf("\n");
    booted.value().reset();
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
    std::printf("\n== demo %s (exit status %d) ==\n", code == 0 ? "finished" : "FAILED", code);
    return code;
}

}  // namespace toyos::cli
