// toyos: boot the kernel and run userland programs on it.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/demo.h"
#include "cli/options.h"
#include "iouring/manager.h"
#include "kernel/kernel.h"
#include "kernel/log.h"
#include "toyos/program.h"

namespace {

using namespace toyos;

const char* kUsage =
    "usage: toyos COMMAND [ARGS...]\n"
    "\n"
    "commands:\n"
    "  run [OPTIONS] PROGRAM [ARGS...]  boot the kernel and run PROGRAM as its first process\n"
    "  programs                         list the built-in programs\n"
    "  demo                             boot on a sample sandbox and show what happens\n"
    "\n"
    "Run 'toyos COMMAND --help' for a command's options.\n";

const char* kRunUsage =
    "usage: toyos run [OPTIONS] PROGRAM [ARGS...]\n"
    "\n"
    "Boots the kernel on a sandbox root, runs PROGRAM (a built-in name, or the path of a\n"
    "shared object exporting toyos_main) and exits with its exit status (128+N if killed\n"
    "by signal N).\n"
    "\n"
    "options:\n"
    "  --root DIR        sandbox root directory (default: the current directory); no path\n"
    "                    a program uses can leave it\n"
    "  --log-level L     trace, debug, info, warn (default), error, critical, off;\n"
    "                    also TOYOS_LOG_LEVEL\n"
    "  --route SPEC      how classic syscalls run: NAME=PATH[,NAME=PATH...] with PATH one\n"
    "                    of direct (default), async (AsyncSyscallExecutor thread pool) or\n"
    "                    ring (the process's io_uring); NAME may be 'all'\n"
    "  --executor E      what runs ring operations: uring (host liburing rings, default)\n"
    "                    or threads (the AsyncSyscallExecutor); also TOYOS_EXECUTOR\n"
    "  --host-rings N    host rings (and reactor threads) for the uring executor\n"
    "                    (default: one per core, at most 4)\n"
    "  --sqpoll[=MS]     host rings in SQPOLL mode sharing one poller; the poller sleeps\n"
    "                    after MS idle milliseconds (default 1000)\n"
    "  --device HOST[=NAME]  expose host device HOST (a block device, or an NVMe generic\n"
    "                    char device /dev/ngXnY for URING_CMD passthrough) as /dev/NAME\n"
    "                    (default: its own name); repeatable\n"
    "  --nvme            expose every NVMe namespace of the host (/dev/nvmeXnY, /dev/ngXnY)\n"
    "  --stats-json FILE write the final io_uring statistics (global, per opcode, per\n"
    "                    ring) to FILE as JSON when PROGRAM ends\n"
    "  --trace FILE      record every ring operation and write it to FILE as Chrome\n"
    "                    trace-event JSON (open it in Perfetto or chrome://tracing)\n"
    "  --stats on|off    the io_uring subsystem's per-operation statistics (default on);\n"
    "                    off: rings and host rings count nothing per operation and /proc\n"
    "                    shows Stats: off with the counters at 0\n";

kernel::ProgramCatalog builtin_catalog() {
    kernel::ProgramCatalog catalog;
    for (auto* p = builtin_programs(); p != nullptr; p = p->next)
        catalog.add_builtin(p->name, p->main, p->description);
    return catalog;
}

bool wants_help(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
        if (argv[i][0] != '-') return false;  // options end at the program name
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return true;
    }
    return false;
}

int exit_code_of(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return 1;
}

// --stats-json and --trace: written once PROGRAM (and with it every ring it used) has ended.
bool write_reports(kernel::Kernel& k, const cli::RunOptions& opts) {
    iouring::IoUringManager& io = k.io_uring();
    if (!opts.stats_json.empty()) {
        FILE* f = std::fopen(opts.stats_json.c_str(), "w");
        const std::string json = io.stats_json();
        if (f == nullptr || std::fputs(json.c_str(), f) < 0 || std::fputc('\n', f) < 0 ||
            std::fclose(f) != 0) {
            std::fprintf(stderr, "toyos: --stats-json %s: %s\n", opts.stats_json.c_str(),
                         std::strerror(errno));
            return false;
        }
    }
    if (!opts.trace.empty() && io.trace_log() != nullptr && !io.trace_log()->write(opts.trace)) {
        std::fprintf(stderr, "toyos: --trace %s: %s\n", opts.trace.c_str(), std::strerror(errno));
        return false;
    }
    return true;
}

int cmd_run(int argc, char** argv) {
    if (wants_help(argc, argv, 2)) {
        std::fputs(kRunUsage, stdout);
        return 0;
    }
    auto opts = cli::parse_run_options(argc, argv, 2);
    if (!opts) return 2;
    if (opts->program_and_args.empty()) {
        std::fputs(kRunUsage, stderr);
        return 2;
    }
    if (!kernel::init_logging(
            kernel::log_level_from_env(opts->log_level.empty() ? "warn" : opts->log_level))) {
        std::fprintf(stderr, "toyos: unknown log level '%s'\n", opts->log_level.c_str());
        return 2;
    }
    kernel::KernelConfig config;
    config.root = opts->root.empty() ? "." : opts->root;
    if (!opts->routes.empty()) {
        kernel::SyscallHandlerRegistry probe;
        kernel::register_all_syscalls(probe);
        std::string error = kernel::parse_routes(opts->routes, probe, config.routes);
        if (!error.empty()) {
            std::fprintf(stderr, "toyos: --route: %s\n", error.c_str());
            return 2;
        }
    }
    if (!opts->executor.empty()) {
        if (opts->executor != "uring" && opts->executor != "threads") {
            std::fprintf(stderr, "toyos: --executor must be uring or threads\n");
            return 2;
        }
        config.executor = opts->executor;
    }
    if (!opts->host_rings.empty()) {
        const int n = std::atoi(opts->host_rings.c_str());
        if (n < 1 || n > 64) {
            std::fprintf(stderr, "toyos: --host-rings must be 1..64\n");
            return 2;
        }
        config.host_rings = static_cast<unsigned>(n);
    }
    if (!opts->sqpoll.empty()) {
        config.sqpoll = true;
        if (opts->sqpoll != "on") {
            const int ms = std::atoi(opts->sqpoll.c_str());
            if (ms < 1) {
                std::fprintf(stderr, "toyos: --sqpoll=MS needs a positive idle time\n");
                return 2;
            }
            config.sqpoll_idle_ms = static_cast<unsigned>(ms);
        }
    }
    config.trace = !opts->trace.empty();
    if (!opts->stats.empty()) {
        if (opts->stats != "on" && opts->stats != "off") {
            std::fprintf(stderr, "toyos: --stats must be on or off\n");
            return 2;
        }
        config.stats = opts->stats == "on";
    }
    config.nvme = opts->nvme;
    for (const std::string& d : opts->devices) {
        const size_t eq = d.find('=');
        const std::string host = d.substr(0, eq);
        const std::string name =
            eq != std::string::npos ? d.substr(eq + 1) : host.substr(host.rfind('/') + 1);
        config.devices.emplace_back(host, name);
    }
    auto k = kernel::Kernel::boot(config, builtin_catalog());
    if (k.is_error()) {
        std::fprintf(stderr, "toyos: cannot boot on root '%s': %s\n", config.root.c_str(),
                     std::strerror(k.error()));
        return 1;
    }
    const std::string program = opts->program_and_args[0];
    auto status = k.value()->run(program, opts->program_and_args);
    if (!write_reports(*k.value(), *opts)) return 1;
    if (status.is_error()) {
        std::fprintf(stderr, "toyos: %s: %s\n", program.c_str(),
                     status.error() == ENOEXEC ? "not a toyos program (no toyos_main)"
                                               : std::strerror(status.error()));
        return 127;
    }
    return exit_code_of(status.value());
}

int cmd_programs(int argc, char** argv) {
    if (wants_help(argc, argv, 2)) {
        std::puts("usage: toyos programs\n\nLists the built-in programs.");
        return 0;
    }
    for (const auto& p : builtin_catalog().builtins())
        std::printf("%-12s %s\n", p.name.c_str(), p.description.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    if (cmd == "run") return cmd_run(argc, argv);
    if (cmd == "programs") return cmd_programs(argc, argv);
    if (cmd == "demo") {
        if (wants_help(argc, argv, 2)) {
            std::fputs(cli::kDemoUsage, stdout);
            return 0;
        }
        return cli::run_demo(builtin_catalog());
    }
    std::fprintf(stderr, "toyos: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
    return 2;
}
