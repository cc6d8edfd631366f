// Command-line options shared by `toyos run` and `toyos demo`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace toyos::cli {

struct RunOptions {
    std::string root;  // empty: the current directory
    std::string log_level;
    std::string routes;
    std::string executor;                  // uring | threads
    std::string host_rings;                // number
    std::string spin_us;                   // number
    std::string sqpoll;                    // "" off; "on" or idle milliseconds
    std::string stats_json;                // file for the final statistics snapshot
    std::string trace;                     // file for the Chrome trace of every ring operation
    std::string stats;                     // "on" or "off": per-operation io_uring statistics
    std::vector<std::string> devices;      // --device HOST[=NAME], repeatable
    bool nvme = false;                     // --nvme: every NVMe namespace of the host in /dev
    std::vector<std::string> faults;       // --fault SPEC, repeatable
    std::vector<std::string> fault_files;  // --fault-file FILE, repeatable
    std::string fault_seed;                // --fault-seed N
    std::string max_rings;                 // --max-rings N
    std::string max_inflight;              // --max-inflight N
    std::string max_registered_bytes;      // --max-registered-bytes N[K|M|G]
    std::vector<std::string> program_and_args;
};

// Parses the options before PROGRAM; on error prints a message and returns nullopt.
std::optional<RunOptions> parse_run_options(int argc, char** argv, int first);

}  // namespace toyos::cli
