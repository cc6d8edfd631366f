// Runs one validated request with host syscalls, on the calling thread. Used by the thread
// executor, and by the host-ring executor for what the host ring cannot do.
//
// Socket operations are attempted without blocking; -EAGAIN with wait_events() != 0 means
// "arm a poll and try again when ready", as Linux's io_uring does internally.
#pragma once

#include <cstdint>

namespace toyos::iouring {

struct Request;

// The result (>= 0 or -errno) of running `req` once.
int64_t run_operation(Request& req);
// The poll events a request waits for when its attempt would block (0: it never waits).
uint32_t wait_events(const Request& req);

}  // namespace toyos::iouring
