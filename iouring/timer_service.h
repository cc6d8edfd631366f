// TimerService: one kernel thread that fires TIMEOUT and LINK_TIMEOUT requests at their
// deadlines (CLOCK_MONOTONIC). Arming and disarming take its lock; firing claims the request
// (Request::try_claim) under it and calls back outside it, with the claim held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace toyos::iouring {

struct Request;

class TimerService {
  public:
    using Callback = void (*)(Request*);
    using Clock = std::chrono::steady_clock;

    TimerService();
    ~TimerService();
    // Ends the timer thread (idempotent): after it, no callback runs or is still running, so
    // what callbacks use (the executors) can go.
    void stop();
    TimerService(const TimerService&) = delete;
    TimerService& operator=(const TimerService&) = delete;

    // Arm before anything else can claim `req` (under the ring's lock, or before its target is
    // issued): a request freed before it is armed would fire after its end.
    void arm(Request* req, Clock::time_point deadline, Callback on_fire);
    // True if the timer was pending and is now gone (the caller completes the request);
    // false if it already fired or is firing.
    bool disarm(Request* req);
    size_t pending() const;

  private:
    void loop();

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::multimap<Clock::time_point, std::pair<Request*, Callback>> timers_;
    std::unordered_map<Request*,
                       std::multimap<Clock::time_point, std::pair<Request*, Callback>>::iterator>
        index_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace toyos::iouring
