// The sync family: FSYNC.
#pragma once

#include <cstdint>

#include "iouring/ops/op_def.h"

namespace toyos::iouring::sync {

int prep_fsync(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int64_t run_fsync(Request& req);
void host_prep_fsync(io_uring_sqe& sqe, Request& req, const HostTarget& target);

}  // namespace toyos::iouring::sync
