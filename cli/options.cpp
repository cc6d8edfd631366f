#include "cli/options.h"

#include <cstdio>
#include <cstring>

namespace toyos::cli {

std::optional<RunOptions> parse_run_options(int argc, char** argv, int first) {
    RunOptions o;
    int i = first;
    auto value = [&](const char* name, std::string& out) -> bool {
        const size_t n = std::strlen(name);
        if (std::strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
            out = argv[i] + n + 1;
            return true;
        }
        if (std::strcmp(argv[i], name) == 0) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "toyos: %s needs a value\n", name);
                std::exit(2);
            }
            out = argv[++i];
            return true;
        }
        return false;
    };
    for (; i < argc; ++i) {
        if (argv[i][0] != '-') break;
        if (std::strcmp(argv[i], "--") == 0) {
            ++i;
            break;
        }
        if (value("--root", o.root) || value("--log-level", o.log_level) ||
            value("--route", o.routes) || value("--executor", o.executor) ||
            value("--host-rings", o.host_rings) || value("--spin-us", o.spin_us) ||
            value("--stats-json", o.stats_json) || value("--trace", o.trace) ||
            value("--stats", o.stats))
            continue;
        if (std::string dev; value("--device", dev)) {
            o.devices.push_back(dev);
            continue;
        }
        if (std::string spec; value("--fault", spec)) {
            o.faults.push_back(spec);
            continue;
        }
        if (std::string file; value("--fault-file", file)) {
            o.fault_files.push_back(file);
            continue;
        }
        if (value("--fault-seed", o.fault_seed) || value("--max-rings", o.max_rings) ||
            value("--max-inflight", o.max_inflight) ||
            value("--max-registered-bytes", o.max_registered_bytes))
            continue;
        if (std::strcmp(argv[i], "--nvme") == 0) {
            o.nvme = true;
            continue;
        }
        if (std::strcmp(argv[i], "--sqpoll") == 0) {
            o.sqpoll = "on";
            continue;
        }
        if (std::strncmp(argv[i], "--sqpoll=", 9) == 0) {
            o.sqpoll = argv[i] + 9;
            continue;
        }
        std::fprintf(stderr, "toyos: unknown option '%s' (see toyos run --help)\n", argv[i]);
        return std::nullopt;
    }
    for (; i < argc; ++i) o.program_and_args.emplace_back(argv[i]);
    return o;
}

}  // namespace toyos::cli
