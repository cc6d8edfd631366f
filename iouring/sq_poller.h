// SqPoller: the kernel thread behind toy rings set up with IORING_SETUP_SQPOLL. It consumes
// their SQs as userland fills them, so a busy process submits with no toy syscall at all.
// One thread serves every SQPOLL ring (as if each were created with IORING_SETUP_ATTACH_WQ):
// the number of kernel threads stays bounded however many rings exist.
//
// A ring with nothing new for its sq_thread_idle gets IORING_SQ_NEED_WAKEUP set; userland then
// enters with IORING_ENTER_SQ_WAKEUP to wake it. When every ring sleeps, so does the thread.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace toyos::iouring {

class SyscallCompletionRing;

class SqPoller {
  public:
    SqPoller() = default;
    ~SqPoller();
    SqPoller(const SqPoller&) = delete;
    SqPoller& operator=(const SqPoller&) = delete;

    void add(SyscallCompletionRing* ring, uint32_t idle_ms);
    // Returns once the thread no longer touches `ring`.
    void remove(SyscallCompletionRing* ring);
    // IORING_ENTER_SQ_WAKEUP.
    void wake(SyscallCompletionRing* ring);
    // The poller thread's host tid (fdinfo's SqThread), -1 before it started.
    pid_t thread_id() const { return tid_; }
    uint64_t wakeups() const;

  private:
    struct Entry {
        SyscallCompletionRing* ring;
        uint64_t idle_ns;
        uint64_t last_work_ns;
        bool sleeping;
    };
    void loop();

    mutable std::mutex mutex_;  // held while the thread works on the rings
    std::condition_variable cv_;
    std::vector<Entry> entries_;
    bool wake_pending_ = false;
    bool stopping_ = false;
    uint64_t wakeups_ = 0;
    std::thread thread_;
    pid_t tid_ = -1;
};

}  // namespace toyos::iouring
