// The scenarios by name, and the two places they run: the host kernel's io_uring (system
// liburing, host_backend.cpp) and a toy process on a booted toyos kernel (toy_backend.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "outcome.h"

#define TOYOS_DIFF_SCENARIOS(X)   \
    X(nop)                        \
    X(bad_opcode)                 \
    X(unknown_sqe_flags)          \
    X(link_broken_by_bad_fd)      \
    X(link_broken_by_prep_error)  \
    X(hardlink_survives_failure)  \
    X(link_chain_write_then_read) \
    X(drain_waits_for_earlier)    \
    X(cqe_skip_success)           \
    X(async_flag)                 \
    X(read_write)                 \
    X(readv_writev)               \
    X(fixed_buffers)              \
    X(fixed_files_and_update)     \
    X(openat_close)               \
    X(fsync)                      \
    X(send_recv)                  \
    X(sendmsg_recvmsg)            \
    X(accept_connect)             \
    X(timeout_relative_and_count) \
    X(link_timeout)               \
    X(async_cancel)               \
    X(ring_fd_as_operand)         \
    X(registration_errors)        \
    X(deliberate_deviations)      \
    X(prep_errors)                \
    X(timeout_count_semantics)    \
    X(enter_timeout_extremes)     \
    X(small_errno_differences)    \
    X(fd_calls)                   \
    X(memory_devices)             \
    X(foreign_memory)             \
    X(accept_address_copy_out)    \
    X(probe)                      \
    X(poll)                       \
    X(shutdown)                   \
    X(statx)                      \
    X(disabled_ring)

namespace toyos::diff {

enum class Scenario {
#define TOYOS_DIFF_ENUM(name) name,
    TOYOS_DIFF_SCENARIOS(TOYOS_DIFF_ENUM)
#undef TOYOS_DIFF_ENUM
};

Outcome run_on_host(Scenario s);
// Boots a kernel (executor from $TOYOS_EXECUTOR) and runs the scenario as its pid 1.
Outcome run_on_toyos(Scenario s);
// The first of `opcodes` the host's io_uring does not support (io_uring_get_probe), if any.
std::optional<int> host_lacks(const std::vector<int>& opcodes);

}  // namespace toyos::diff
