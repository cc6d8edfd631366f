// ThreadExecutor: runs ring operations with host syscalls on the AsyncSyscallExecutor's
// workers (the "threads" executor, and the fallback of the host-ring one). An operation on a
// socket that would block is parked in the PollReactor and retried when the socket is ready,
// so no worker ever waits on a peer.
#pragma once

#include <atomic>

#include "iouring/executor.h"
#include "iouring/poll_reactor.h"
#include "kernel/async_executor.h"

namespace toyos::iouring {

class ThreadExecutor final : public Executor {
  public:
    explicit ThreadExecutor(kernel::AsyncSyscallExecutor& pool);
    ~ThreadExecutor() override = default;

    const char* name() const override { return "threads"; }
    void issue(Request* req) override;
    int cancel(Request* req) override;
    bool supports(const Request&) const override { return true; }

    // Runs `req` once on the calling worker (Request::run lands here).
    void execute(Request* req);
    uint64_t operations() const { return operations_.load(std::memory_order_relaxed); }

  private:
    void requeue(Request* req);
    void finish_cancelled(Request* req);

    kernel::AsyncSyscallExecutor& pool_;
    PollReactor reactor_;
    std::atomic<uint64_t> operations_{0};
};

}  // namespace toyos::iouring
