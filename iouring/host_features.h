// What the host's io_uring can do, probed once at boot by creating small rings.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace toyos::iouring {

struct HostFeatures {
    bool available = false;       // a host ring can be created at all
    bool single_issuer = false;   // IORING_SETUP_SINGLE_ISSUER
    bool defer_taskrun = false;   // IORING_SETUP_DEFER_TASKRUN
    bool coop_taskrun = false;    // IORING_SETUP_COOP_TASKRUN
    bool sqpoll = false;          // IORING_SETUP_SQPOLL
    bool iopoll = false;          // IORING_SETUP_IOPOLL ring creation
    bool sparse_buffers = false;  // registered buffer tables (fixed buffers)
    bool sparse_files = false;    // registered file tables (fixed files)
    bool passthrough = false;     // SQE128/CQE32 rings (URING_CMD)
    std::array<bool, 256> ops{};  // IORING_REGISTER_PROBE

    static HostFeatures probe();
    std::string describe() const;
};

}  // namespace toyos::iouring
