// NOP: completes with 0 at issue, inside the kernel (the ring's own overhead, nothing else).
#pragma once

#include "iouring/ops/op_def.h"

namespace toyos::iouring::nop {

int prep(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);

}  // namespace toyos::iouring::nop
