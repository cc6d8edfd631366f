// The cancel family: ASYNC_CANCEL. The search is the ring's (ring.cpp: async_cancel, by
// user_data through the cancel index, or by fd, or any).
#pragma once

#include "iouring/ops/op_def.h"

namespace toyos::iouring::cancel {

// A cancel flag of toyos's own, above Linux's IORING_ASYNC_CANCEL_* bits (prep refuses it from
// an SQE): the search considers POLL_ADD requests only (POLL_REMOVE).
inline constexpr uint32_t kPollsOnly = 1u << 31;

int prep_async_cancel(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
void issue_async_cancel(Request& req);

}  // namespace toyos::iouring::cancel
