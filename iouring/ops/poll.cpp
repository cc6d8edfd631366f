// The poll family. A POLL_ADD's mask is the SQE's 16 poll bits plus what Linux always reports
// (IO_POLL_UNMASK: POLLERR, POLLHUP, POLLNVAL, POLLRDHUP); its result is the file's ready
// events within that mask. The thread executor asks the host with poll(2) and, when nothing
// is ready, parks the request in its poll reactor on that mask, O_NONBLOCK or not; the host
// ring executor sends a host POLL_ADD.
#include "iouring/ops/poll.h"

#include <liburing.h>
#include <poll.h>

#include "iouring/ops/cancel.h"
#include "iouring/ops/op_support.h"
#include "iouring/request.h"
#include "iouring/ring.h"
#include "kernel/file.h"

namespace toyos::iouring::poll {
namespace {

constexpr uint32_t kAlwaysReported = POLLERR | POLLHUP | POLLNVAL | POLLRDHUP;
// What a file that cannot wait (a regular file, a /proc file) is always ready for: Linux's
// DEFAULT_POLLMASK for files without a poll method.
constexpr uint32_t kDefaultMask = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

}  // namespace

int prep_poll_add(const PrepContext&, Request& req, const io_uring_sqe& sqe) {
    if (sqe.buf_index || sqe.off || sqe.addr) return -EINVAL;
    const uint32_t flags = sqe.len;
    if (flags & ~IORING_POLL_ADD_MULTI) return -EINVAL;
    // Multishot needs a request that posts more than one CQE (IORING_CQE_F_MORE), which
    // toyos does not have yet: refused (ABI header).
    if (flags & IORING_POLL_ADD_MULTI) return -EINVAL;
    req.op_flags = (sqe.poll32_events & 0xffffu) | kAlwaysReported;
    return 0;
}

int64_t run_poll_add(Request& req) {
    const uint32_t mask = req.op_flags;
    uint32_t ready = kDefaultMask & mask;  // a kernel object (a /proc file)
    if (req.host_fd >= 0) {
        pollfd p{req.host_fd, static_cast<short>(mask), 0};
        if (::poll(&p, 1, 0) < 0) return -errno;
        ready = static_cast<uint16_t>(p.revents) & mask;
    }
    if (ready != 0) return ready;
    // A stream waits for `mask` (the thread executor parks it, waits_for_request_events). A
    // file that cannot wait never becomes ready for anything else: Linux fails such a poll
    // (-EINVAL, nothing to wait on) rather than let it wait forever.
    return req.host_fd >= 0 && req.file->may_block() ? -EAGAIN : -EINVAL;
}

void host_prep_poll_add(io_uring_sqe& sqe, Request& req, const HostTarget& t) {
    io_uring_prep_poll_add(&sqe, t.fd, req.op_flags);
}

int prep_poll_remove(const PrepContext&, Request& req, const io_uring_sqe& sqe) {
    if (sqe.buf_index || sqe.splice_fd_in) return -EINVAL;
    const uint32_t flags = sqe.len;
    if (flags & ~(IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA | IORING_POLL_ADD_MULTI))
        return -EINVAL;
    if (flags == IORING_POLL_ADD_MULTI) return -EINVAL;  // meaningless without an update
    if (!(flags & IORING_POLL_UPDATE_USER_DATA) && sqe.off != 0) return -EINVAL;
    if (!(flags & IORING_POLL_UPDATE_EVENTS) && sqe.poll32_events != 0) return -EINVAL;
    // Updating a poll in place re-arms it with new events or user_data; toyos cannot yet
    // (ABI header).
    if (flags != 0) return -EINVAL;
    req.cancel_key = sqe.addr;
    req.op_flags = cancel::kPollsOnly;
    return 0;
}

// Linux's io_poll_remove: the poll completes with -ECANCELED, the remove with 0, or -ENOENT
// when no POLL_ADD of that user_data is in flight (-EALREADY when it is completing).
void issue_poll_remove(Request& req) {
    SyscallCompletionRing& ring = *req.ring;
    ring.complete(&req, ring.async_cancel(&req));
}

}  // namespace toyos::iouring::poll
