// SyscallCompletionRing::prep: turns a copied SQE into a Request, or an errno for its CQE.
// What every SQE is checked for is here; the rest is its operation's prep (ops/op_def.h).
// Every pointer in the SQE is user memory and goes through the process's AddressSpace; the
// Request keeps a pin on each buffer so the memory outlives munmap and exit while the host
// may still touch it.
#include "iouring/ops/op_def.h"
#include "iouring/ring.h"

namespace toyos::iouring {
namespace {

constexpr uint8_t kSqeFlags = IOSQE_FIXED_FILE | IOSQE_IO_DRAIN | IOSQE_IO_LINK |
                              IOSQE_IO_HARDLINK | IOSQE_ASYNC | IOSQE_CQE_SKIP_SUCCESS;

}  // namespace

int SyscallCompletionRing::prep(Request* req, const io_uring_sqe& sqe) {
    req->user_data = sqe.user_data;
    req->opcode = sqe.opcode;
    req->sqe_flags = sqe.flags;
    req->sqe_fd = sqe.fd;
    if (sqe.flags & ~kSqeFlags) return -EINVAL;  // BUFFER_SELECT and unknown bits
    if (sqe.flags & IOSQE_CQE_SKIP_SUCCESS) drain_disabled_ = true;
    if ((sqe.flags & IOSQE_IO_DRAIN) && drain_disabled_) return -EOPNOTSUPP;
    if (sqe.personality != 0) return -EINVAL;
    const OpDef& def = op_def(sqe.opcode);
    if (def.prep == nullptr) return -EINVAL;
    // IOPOLL rings take only what can be polled for (Linux's io_issue_def.iopoll).
    if ((setup_flags_ & IORING_SETUP_IOPOLL) && !def.iopoll) return -EINVAL;
    const PrepContext ctx{submitter_->memory(), regs_, setup_flags_};  // the submission's process
    return def.prep(ctx, *req, sqe);
}

}  // namespace toyos::iouring
