// SyscallCompletionRing: injected faults (toyos run --fault; fault_plan.h). The decision is
// made at submission, in SQ order under the submit lock, so that it depends only on the seed,
// the ring and the request's sequence number; it is applied when the request is issued, before
// any executor sees it, so the host ring executor and the thread pool inject alike.
#include <algorithm>
#include <chrono>

#include "iouring/manager.h"
#include "iouring/ops/op_def.h"
#include "iouring/ring.h"

namespace toyos::iouring {

void SyscallCompletionRing::decide_fault(Request* req) {
    if (op_def(req->opcode).issue_on != IssueOn::Executor) return;  // the ring's own
    req->fault =
        faults_->decide(id_, req->seq, req->opcode, req->expected_bytes(), fault_matches_.get());
}

bool SyscallCompletionRing::apply_fault(Request* req) {
    FaultCounters& counters = faults_->counters();
    switch (req->fault.kind) {
        case FaultAction::Kind::Error:
            counters.errors.fetch_add(1, std::memory_order_relaxed);
            complete(req, -req->fault.error);
            return true;
        case FaultAction::Kind::Delay:
            counters.delays.fetch_add(1, std::memory_order_relaxed);
            // The timer thread issues it later; nothing waits meanwhile.
            manager_.timers().arm(
                req,
                std::chrono::steady_clock::now() + std::chrono::nanoseconds(req->fault.delay_ns),
                &SyscallCompletionRing::on_fault_delay_fired);
            return true;
        case FaultAction::Kind::Short: {
            // Cut the request itself, so the host transfers exactly what the result says.
            const size_t full = req->expected_bytes();
            const size_t keep = std::clamp<size_t>(
                static_cast<size_t>(static_cast<double>(full) * req->fault.keep_ppm / 1e6), 1,
                full - 1);
            counters.short_ops.fetch_add(1, std::memory_order_relaxed);
            req->full_bytes = full;
            if (op_def(req->opcode).vectored) {
                size_t left = keep;
                uint32_t n = 0;
                while (n < req->iovcnt && left > 0) {
                    if (req->iov[n].iov_len > left) req->iov[n].iov_len = left;
                    left -= req->iov[n].iov_len;
                    ++n;
                }
                req->iovcnt = n;
            } else {
                req->len = static_cast<uint32_t>(keep);
            }
            return false;
        }
        case FaultAction::Kind::None:
            break;
    }
    return false;
}

void SyscallCompletionRing::on_fault_delay_fired(Request* req) {
    // Only a successful disarm completes a delayed request elsewhere, so it is still ours.
    SyscallCompletionRing* ring = req->ring;
    if (ring->dispatch(req)) ring->manager_.executor().flush();
}

int SyscallCompletionRing::register_fault(bool buffers) {
    if (faults_ == nullptr) return 0;
    const uint64_t call = register_calls_[buffers ? 1 : 0].fetch_add(1) + 1;
    return faults_->register_error(id_, buffers, call);
}

}  // namespace toyos::iouring
