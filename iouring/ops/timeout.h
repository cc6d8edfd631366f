// The timeout family: TIMEOUT and LINK_TIMEOUT. Their timers and completion counts are the
// ring's own machinery (ring.cpp: arm_timeout, on_timeout_fired, on_link_timeout_fired); a
// LINK_TIMEOUT is never issued alone: submission attaches it to the request it guards.
#pragma once

#include "iouring/ops/op_def.h"

namespace toyos::iouring::timeout {

int prep_timeout(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_link_timeout(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
void issue_timeout(Request& req);

}  // namespace toyos::iouring::timeout
