// Executor: the seam between the ring and whatever runs operations. The ring hands it
// validated requests; it runs them and reports each one's result exactly once through
// SyscallCompletionRing::complete(). The thread-pool executor runs them with host syscalls;
// the host liburing executor runs them on real host rings.
#pragma once

#include <cstdint>

namespace toyos::iouring {

struct Request;

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
    // Whether this executor can run `opcode` (the others fall back to the thread pool).
    virtual bool supports(uint8_t opcode) const = 0;
};

}  // namespace toyos::iouring
