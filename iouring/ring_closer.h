// RingCloser: tears rings down on a thread of its own. A kernel service thread (the SQ poller,
// a host reactor, the timer or poll thread, a worker running a request) can drop the last
// reference to a ring's file in the middle of work on that very ring, holding locks that the
// ring's teardown takes (a CLOSE of the ring's own fd, taken by the SQ poller, did: the poller
// hung). Such threads mark themselves with a RingTeardownDeferral, and a ring file released
// there hands its ring here instead, as Linux hands io_uring_release's teardown to a workqueue.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace toyos::kernel {
class Process;
}

namespace toyos::iouring {

class SyscallCompletionRing;

// While one lives on a thread, ring files released there are torn down by the RingCloser.
class RingTeardownDeferral {
  public:
    RingTeardownDeferral();
    ~RingTeardownDeferral();
    RingTeardownDeferral(const RingTeardownDeferral&) = delete;
    RingTeardownDeferral& operator=(const RingTeardownDeferral&) = delete;
    static bool active();
};

class RingCloser {
  public:
    RingCloser() = default;
    ~RingCloser() { stop(); }
    RingCloser(const RingCloser&) = delete;
    RingCloser& operator=(const RingCloser&) = delete;

    // shutdown() of `ring` on the closer's thread (started at first use). (No process needs
    // to be kept alive for it: a request's submitter waits for it at exit.) After stop(),
    // tears down on the caller.
    void close_later(std::shared_ptr<SyscallCompletionRing> ring);
    // Tears down what is queued, then ends the thread.
    void stop();
    uint64_t closed() const;

  private:
    void loop();

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<SyscallCompletionRing>> queue_;
    bool stopping_ = false;
    uint64_t closed_ = 0;
    std::thread thread_;
};

}  // namespace toyos::iouring
