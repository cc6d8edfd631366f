// SqPoller: the kernel thread behind toy rings set up with IORING_SETUP_SQPOLL. It consumes
// their SQs as userland fills them, so a busy process submits with no toy syscall at all.
// One thread serves every SQPOLL ring (as if each were created with IORING_SETUP_ATTACH_WQ):
// the number of kernel threads stays bounded however many rings exist.
//
// A ring with nothing new for its sq_thread_idle gets IORING_SQ_NEED_WAKEUP set; userland then
// enters with IORING_ENTER_SQ_WAKEUP to wake it. When every ring sleeps, so does the thread.
//
// With the uring executor there is no thread of its own: each host reactor drives a SqPoller
// for the rings it serves (poll_once() in its loop), so a consumed SQE becomes a host SQE on the
// same thread, as in Linux, where the SQ thread issues what it consumes. A separate poller
// thread would make three busy threads (process, poller, reactor) out of two.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace toyos::iouring {

class SyscallCompletionRing;

class SqPoller {
  public:
    SqPoller() = default;
    // Driven by its owner's thread: poll_once() there; `wake_owner` when a ring needs polling
    // again (IORING_ENTER_SQ_WAKEUP, a new ring).
    explicit SqPoller(std::function<void()> wake_owner) : wake_owner_(std::move(wake_owner)) {}
    ~SqPoller();
    SqPoller(const SqPoller&) = delete;
    SqPoller& operator=(const SqPoller&) = delete;

    void add(SyscallCompletionRing* ring, uint32_t idle_ms);
    // Returns once the thread no longer touches `ring`.
    void remove(SyscallCompletionRing* ring);
    // IORING_ENTER_SQ_WAKEUP.
    void wake(SyscallCompletionRing* ring);
    // The poller thread's host tid (fdinfo's SqThread), -1 before it started.
    pid_t thread_id() const { return tid_.load(std::memory_order_relaxed); }
    uint64_t wakeups() const;

    // One pass over the rings, consuming what userland published. Returns whether any ring is
    // still awake (then the caller polls again rather than sleep); `worked` tells whether SQEs
    // were consumed.
    bool poll_once(bool& worked);
    // Whether some ring is awake (for an owner deciding whether it may sleep).
    bool any_awake() const { return awake_.load(std::memory_order_seq_cst) > 0; }
    void set_thread_id(pid_t tid) { tid_.store(tid, std::memory_order_relaxed); }

  private:
    struct Entry {
        SyscallCompletionRing* ring;
        uint64_t idle_ns;
        uint64_t last_work_ns;
        bool sleeping;
    };
    void loop();

    void mark_awake_locked(Entry& e);

    mutable std::mutex mutex_;  // held while a pass works on the rings
    std::condition_variable cv_;
    std::vector<Entry> entries_;
    std::atomic<unsigned> awake_{0};  // entries not sleeping
    bool wake_pending_ = false;
    bool stopping_ = false;
    uint64_t wakeups_ = 0;
    std::function<void()> wake_owner_;  // set: driven by its owner, no thread of its own
    std::thread thread_;
    std::atomic<pid_t> tid_{-1};
};

}  // namespace toyos::iouring
