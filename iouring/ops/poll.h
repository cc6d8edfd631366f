// The poll family: POLL_ADD (one-shot) and POLL_REMOVE. A POLL_ADD waits for its events on
// the file; POLL_REMOVE cancels one by user_data (the ring's cancel search, polls only).
#pragma once

#include <cstdint>

#include "iouring/ops/op_def.h"

namespace toyos::iouring::poll {

int prep_poll_add(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int64_t run_poll_add(Request& req);
void host_prep_poll_add(io_uring_sqe& sqe, Request& req, const HostTarget& target);

int prep_poll_remove(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
void issue_poll_remove(Request& req);

}  // namespace toyos::iouring::poll
