// TimerService: one kernel thread that fires TIMEOUT and LINK_TIMEOUT requests (and injected
// delays) at their deadlines (CLOCK_MONOTONIC). Arming and disarming take its lock; firing
// calls back outside it, with the sequence number the request had when it was armed: by the
// time the callback runs, the request may have completed by another path and its slot been
// reused, which the callback tells by the number.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace toyos::iouring {

struct Request;
class SyscallCompletionRing;

class TimerService {
  public:
    // `ring` and `seq` are the request's when it was armed (its own fields may be reset by then).
    using Callback = void (*)(SyscallCompletionRing* ring, Request*, uint64_t seq);
    using Clock = std::chrono::steady_clock;

    TimerService();
    ~TimerService();
    TimerService(const TimerService&) = delete;
    TimerService& operator=(const TimerService&) = delete;

    void arm(Request* req, Clock::time_point deadline, Callback on_fire);  // records ring, seq
    // True if the timer was pending and is now gone (the caller completes the request);
    // false if it already fired or is firing.
    bool disarm(Request* req);
    size_t pending() const;
    // Returns once every callback that had begun firing when it was called has returned. A
    // closing ring calls it after its last request completed, so that no callback still
    // holds one of its requests when it goes away. (A no-op on the timer thread itself.)
    void quiesce();

  private:
    void loop();

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    struct Timer {
        SyscallCompletionRing* ring;
        Request* req;
        uint64_t seq;
        Callback on_fire;
    };
    std::multimap<Clock::time_point, Timer> timers_;
    std::unordered_map<Request*, std::multimap<Clock::time_point, Timer>::iterator> index_;
    uint64_t fired_ = 0;     // callbacks begun
    uint64_t finished_ = 0;  // callbacks returned
    std::condition_variable finished_cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace toyos::iouring
