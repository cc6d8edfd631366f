// The file-system family: STATX, and LSEEK (IORING_OP_TOYOS_LSEEK, a toyos opcode: see the ABI
// header). Paths resolve in the sandbox, on the thread pool's short lane.
#pragma once

#include <cstdint>

#include "iouring/ops/op_def.h"

namespace toyos::iouring::fs {

int prep_lseek(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int64_t run_lseek(Request& req);

int prep_statx(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int64_t run_statx(Request& req);

}  // namespace toyos::iouring::fs
