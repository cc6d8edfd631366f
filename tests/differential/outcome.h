// What a differential scenario observed, in plain types: no liburing header of either side, so
// the host and the toyos translation units can hand it to the comparison.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace toyos::diff {

struct CqeRecord {
    uint64_t user_data = 0;
    int32_t res = 0;
    uint32_t flags = 0;
    // An fd number (OPENAT, ACCEPT): the two kernels number fds differently, so only its class
    // (>= 0, or the exact -errno) is compared; the scenario then uses the fd to prove it works.
    bool res_is_fd = false;
};

// The CQEs one wait collected. `ordered`: Linux guarantees their order (a link chain, a
// drain), so the sequence is compared; otherwise they are compared as a set keyed by user_data.
struct Step {
    std::string what;
    bool ordered = false;
    std::vector<CqeRecord> cqes;
};

struct Outcome {
    std::vector<Step> steps;
    // Other observable results, compared one by one: submit counts, register results, the
    // bytes a read returned, "cq_ready=0" after a step.
    std::vector<std::string> facts;
    // What the scenario itself found wrong on this backend (a wait that timed out, data that
    // does not match what was written). Must stay empty on both.
    std::vector<std::string> failures;
};

// Every difference between the host's outcome and toyos's, one per line; empty when equal.
std::string differences(const Outcome& host, const Outcome& toy);
std::string describe(const Outcome& o);

}  // namespace toyos::diff
