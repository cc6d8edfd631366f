// The open/close family: OPENAT and CLOSE, operations on the submitter's fd table.
#pragma once

#include <cstdint>

#include "iouring/ops/op_def.h"

namespace toyos::iouring::openclose {

int prep_openat(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_close(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int64_t run_openat(Request& req);
int64_t run_close(Request& req);

}  // namespace toyos::iouring::openclose
