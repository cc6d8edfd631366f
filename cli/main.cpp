// toyos: boot the kernel and run userland programs on it.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/demo.h"
#include "cli/options.h"
#include "iouring/fault_plan.h"
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
    "  --spin-us N       how long an idle host reactor polls for work, and a process for\n"
    "                    its CQEs, before sleeping (default 200; 0: sleep at once)\n"
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
    "                    shows Stats: off with the counters at 0\n"
    "  --fault SPEC      inject faults, deterministically: TARGET:ACTION[:prob=P][:every=N]\n"
    "                    with TARGET an opcode (read, write, readv, write_fixed, openat,\n"
    "                    fsync, send, recv, ...), * (every operation), host-ring,\n"
    "                    register-buffers or register-files, and ACTION error=ERRNO,\n"
    "                    short=FRACTION (reads/writes), delay=TIME (500us, 2ms) or fail;\n"
    "                    e.g. read:error=EIO:prob=0.1, write:short=0.5:every=7,\n"
    "                    host-ring:fail, register-buffers:error=ENOMEM; repeatable\n"
    "                    (docs/reliability.md)\n"
    "  --fault-file FILE one --fault SPEC per line, # comments\n"
    "  --fault-seed N    the seed of --fault's decisions (default 0): the same seed and\n"
    "                    program replay the same faults\n"
    "  --max-rings N     io_uring rings a process may have open (default 64); beyond:\n"
    "                    io_uring_setup fails with EMFILE\n"
    "  --max-inflight N  ring operations a process may have in flight over all its rings\n"
    "                    (default 65536); io_uring_enter takes what fits, EAGAIN if none\n"
    "  --max-registered-bytes N[K|M|G]  registered buffer bytes per process, in whole\n"
    "                    pages as RLIMIT_MEMLOCK counts them (default 256M); beyond:\n"
    "                    io_uring_register fails with ENOMEM\n";

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

// --fault, --fault-file, --fault-seed: a message and false when a spec is malformed.
bool configure_faults(const cli::RunOptions& opts, kernel::KernelConfig& config) {
    std::vector<std::string> specs = opts.faults;
    std::string error;
    for (const std::string& file : opts.fault_files) {
        if (!iouring::FaultPlan::parse_file(file, specs, error)) {
            std::fprintf(stderr, "toyos: --fault-file %s\n", error.c_str());
            return false;
        }
    }
    uint64_t seed = 0;
    if (!opts.fault_seed.empty()) {
        char* end = nullptr;
        errno = 0;
        seed = std::strtoull(opts.fault_seed.c_str(), &end, 0);
        if (*end != '\0' || errno != 0 || opts.fault_seed[0] == '-') {
            std::fprintf(stderr, "toyos: --fault-seed must be an unsigned 64-bit number\n");
            return false;
        }
    }
    if (specs.empty()) return true;
    std::vector<iouring::FaultRule> rules;
    for (const std::string& spec : specs) {
        iouring::FaultRule rule;
        if (!iouring::FaultPlan::parse(spec, rule, error)) {
            std::fprintf(stderr, "toyos: --fault %s: %s\n", spec.c_str(), error.c_str());
            return false;
        }
        rules.push_back(std::move(rule));
    }
    config.faults = std::make_shared<const iouring::FaultPlan>(std::move(rules), seed);
    return true;
}

// A positive count with an optional K, M or G (powers of 1024); false if malformed.
bool parse_count(const std::string& text, uint64_t max, uint64_t& out) {
    char* end = nullptr;
    errno = 0;
    uint64_t n = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || end == text.c_str() || errno != 0) return false;
    const std::string unit = end;
    unsigned shift = 0;
    if (unit == "K" || unit == "k")
        shift = 10;
    else if (unit == "M" || unit == "m")
        shift = 20;
    else if (unit == "G" || unit == "g")
        shift = 30;
    else if (!unit.empty())
        return false;
    if (n == 0 || n > (max >> shift)) return false;
    out = n << shift;
    return true;
}

// --max-rings, --max-inflight, --max-registered-bytes.
bool configure_limits(const cli::RunOptions& opts, kernel::KernelConfig& config) {
    uint64_t n = 0;
    if (!opts.max_rings.empty()) {
        if (!parse_count(opts.max_rings, 1u << 20, n)) {
            std::fprintf(stderr, "toyos: --max-rings must be 1..1048576\n");
            return false;
        }
        config.limits.max_rings = static_cast<uint32_t>(n);
    }
    if (!opts.max_inflight.empty()) {
        if (!parse_count(opts.max_inflight, uint64_t{1} << 30, n)) {
            std::fprintf(stderr, "toyos: --max-inflight must be 1..1073741824\n");
            return false;
        }
        config.limits.max_inflight = static_cast<uint32_t>(n);
    }
    if (!opts.max_registered_bytes.empty()) {
        if (!parse_count(opts.max_registered_bytes, uint64_t{1} << 46, n)) {
            std::fprintf(stderr,
                         "toyos: --max-registered-bytes must be a positive size such as 64M\n");
            return false;
        }
        config.limits.max_registered_bytes = n;
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
    if (!opts->spin_us.empty()) {
        char* end = nullptr;
        const unsigned long us = std::strtoul(opts->spin_us.c_str(), &end, 10);
        if (end == opts->spin_us.c_str() || *end != '\0' || us > 1000000) {
            std::fprintf(stderr, "toyos: --spin-us must be 0..1000000\n");
            return 2;
        }
        config.spin_ns = static_cast<uint64_t>(us) * 1000;
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
    if (!configure_faults(*opts, config) || !configure_limits(*opts, config)) return 2;
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
