// The file-system family: LSEEK (IORING_OP_TOYOS_LSEEK, a toyos opcode: see the ABI header).
#pragma once

#include <cstdint>

#include "iouring/ops/op_def.h"

namespace toyos::iouring::fs {

int prep_lseek(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int64_t run_lseek(Request& req);

}  // namespace toyos::iouring::fs
