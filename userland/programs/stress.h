// stress: what the parent (stress.cpp) and its workers (stress_worker.cpp) share.
#pragma once

#include <cstdint>

namespace toyos::stress {

// Where the workers keep their files and results (inside the sandbox).
inline constexpr const char* kDir = "/stress";

struct WorkerOptions {
    unsigned id = 0;
    uint64_t seed = 1;
    uint64_t ops = 1000;      // SQEs to submit
    unsigned sq_entries = 4;  // the CQ is as small as the SQ (IORING_SETUP_CQSIZE)
};

// What a worker that ran to its end checked in userland, written to its result file as one
// line of `key=value` words (stress.cpp reads them back).
struct WorkerReport {
    uint64_t ops = 0;            // SQEs the kernel accepted
    uint64_t lost = 0;           // user_data never completed
    uint64_t duplicated = 0;     // user_data completed twice, or never submitted
    uint64_t bad_res = 0;        // a completion whose res is not one this operation can have
    uint64_t busy = 0;           // submits refused with -EBUSY (CQ overflow backpressure)
    uint64_t overflow_seen = 0;  // times the worker found IORING_SQ_CQ_OVERFLOW set
};

// Runs one worker; returns its exit status (0: every check passed).
int run_worker(const WorkerOptions& o);

// The result file of worker `id` (into a buffer of `size` bytes).
void result_path(char* buf, unsigned long size, unsigned id);
void data_path(char* buf, unsigned long size, unsigned id);

}  // namespace toyos::stress
