// The uring_cmd family: URING_CMD, for NVMe passthrough on generic char devices (/dev/ngXnY).
#pragma once

#include <cstdint>

#include "iouring/ops/op_def.h"

namespace toyos::iouring::uring_cmd {

int prep(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
// Once the file is known: only an NVMe generic char device takes commands, and only the ones
// a toy process may send it (check_nvme_cmd in uring_cmd.cpp).
int check_file(Request& req, const kernel::File& file, uint32_t setup_flags);
int64_t run(Request& req);
void host_prep(io_uring_sqe& sqe, Request& req, const HostTarget& target);

}  // namespace toyos::iouring::uring_cmd
