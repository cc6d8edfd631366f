// The read/write family: READ, WRITE, READV, WRITEV, READ_FIXED, WRITE_FIXED.
#pragma once

#include <cstdint>

#include "iouring/ops/op_def.h"

namespace toyos::iouring::rw {

int prep_read(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_write(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_readv(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_writev(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_read_fixed(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_write_fixed(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);

int64_t run_read(Request& req);  // READ and READ_FIXED: the registered buffer is plain memory
int64_t run_write(Request& req);
int64_t run_readv(Request& req);
int64_t run_writev(Request& req);

void host_prep_read(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_write(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_readv(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_writev(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_read_fixed(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_write_fixed(io_uring_sqe& sqe, Request& req, const HostTarget& target);

}  // namespace toyos::iouring::rw
