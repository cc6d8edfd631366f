// Executor: the seam between the ring and whatever runs operations. The ring hands it
// validated requests; it runs them and reports each one's result exactly once through
// SyscallCompletionRing::complete(). The thread-pool executor runs them with host syscalls;
// the host liburing executor runs them on real host rings.
#pragma once

#include <cstdint>

namespace toyos::iouring {

struct Request;
class SyscallCompletionRing;

class Executor {
  public:
    virtual ~Executor() = default;
    virtual const char* name() const = 0;
    // Takes the request; completes it later (possibly on another thread, possibly before
    // issue() returns).
    virtual void issue(Request* req) = 0;
    // End of one enter's batch: a batching executor submits to the host now.
    virtual void flush() {}
    // Asks for `req` to end early. 0: it will complete with -ECANCELED; -EALREADY: it is
    // running and will complete with its own result; -ENOENT: this executor does not have it.
    virtual int cancel(Request* req) = 0;
    // Whether this executor can run `req` (the others fall back to the thread pool).
    virtual bool supports(const Request& req) const = 0;
    // A ring's registered buffers or files changed, or the ring is going away: an executor
    // that mirrors them on the host updates its tables.
    virtual void registrations_changed(SyscallCompletionRing&) {}
    virtual void ring_closed(SyscallCompletionRing&) {}
};

}  // namespace toyos::iouring
