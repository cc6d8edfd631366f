// Spinning before sleeping. A hand-off between two threads on different cores costs a few
// hundred nanoseconds when the receiver is polling, and several microseconds plus a context
// switch when it sleeps (futex or eventfd wake-up). The reactor waiting for the next batch
// and a process waiting for its CQEs therefore poll for a short budget first, the way
// Linux's own hybrid polling does, and only then sleep.
//
// A spinning thread takes a CPU from everyone else, so a process-wide gate lets at most one
// thread per CPU spin at once (none on a single CPU, where the thread polled for could not
// run meanwhile): with many waiters the rest sleep at once. Two spinners on two CPUs is
// the case this is for: a process and its reactor handing batches back and forth.
#pragma once

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <utility>

#include "iouring/clock.h"

namespace toyos::iouring {

class SpinGate {
  public:
    static SpinGate& instance() {
        static SpinGate gate(usable_cpus());
        return gate;
    }
    // The CPUs this process may run on (affinity, as a container's cpuset sets it).
    static unsigned usable_cpus() {
        cpu_set_t set;
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof(set), &set) == 0)
            return static_cast<unsigned>(CPU_COUNT(&set));
        return std::thread::hardware_concurrency();
    }
    explicit SpinGate(unsigned cpus) : capacity_(cpus > 1 ? cpus : 0) {}

    bool try_enter() {
        unsigned n = spinning_.load(std::memory_order_relaxed);
        while (n < capacity_)
            if (spinning_.compare_exchange_weak(n, n + 1, std::memory_order_acquire)) return true;
        return false;
    }
    void leave() { spinning_.fetch_sub(1, std::memory_order_release); }

  private:
    const unsigned capacity_;
    std::atomic<unsigned> spinning_{0};
};

// Polling pays only where hand-offs are quick (page-cache I/O, NOPs). Where they are not (a
// device's I/O, an idle socket) a poll that found nothing wasted a CPU the device path or
// another thread could have used, so a site that polled in vain sleeps at once for its next
// waits, twice as many after each further miss (up to 64), and polls again after that; a
// poll that found its work ends the backoff. Relaxed atomics: several threads may wait at one
// site, and the policy only needs to be roughly right.
class SpinBackoff {
  public:
    bool should_spin() {
        const uint32_t s = skip_.load(std::memory_order_relaxed);
        if (s == 0) return true;
        skip_.store(s - 1, std::memory_order_relaxed);
        return false;
    }
    void hit() { penalty_.store(0, std::memory_order_relaxed); }
    void miss() {
        const uint32_t p = penalty_.load(std::memory_order_relaxed);
        const uint32_t next = p == 0 ? 1 : std::min<uint32_t>(p * 2, kMaxPenalty);
        penalty_.store(next, std::memory_order_relaxed);
        skip_.store(next, std::memory_order_relaxed);
    }
    static constexpr uint32_t kMaxPenalty = 64;

  private:
    std::atomic<uint32_t> skip_{0};
    std::atomic<uint32_t> penalty_{0};
};

enum class SpinOutcome { Met, Missed, NoRoom };

// Polls `ready` for up to `budget_ns`: Met as soon as it holds, Missed when the budget ran out,
// NoRoom when the gate had no room (no poll at all). Reads the clock once per 64 polls.
template <typename Ready>
SpinOutcome spin_poll(uint64_t budget_ns, Ready&& ready) {
    SpinGate& gate = SpinGate::instance();
    if (!gate.try_enter()) return SpinOutcome::NoRoom;
    const uint64_t start = monotonic_ns();
    bool met = false;
    for (unsigned i = 1;; ++i) {
        if (ready()) {
            met = true;
            break;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
        if ((i & 63) == 0 && monotonic_ns() - start >= budget_ns) break;
    }
    gate.leave();
    return met ? SpinOutcome::Met : SpinOutcome::Missed;
}

// True as soon as `ready` holds; false when the budget ran out or the gate had no room (the
// caller then sleeps).
template <typename Ready>
bool spin_until(uint64_t budget_ns, Ready&& ready) {
    return budget_ns != 0 && spin_poll(budget_ns, std::forward<Ready>(ready)) == SpinOutcome::Met;
}

// The same, for a site with a backoff: skipped while it backs off, and telling it the outcome.
template <typename Ready>
bool spin_until(uint64_t budget_ns, SpinBackoff& backoff, Ready&& ready) {
    if (budget_ns == 0 || !backoff.should_spin()) return false;
    switch (spin_poll(budget_ns, std::forward<Ready>(ready))) {
        case SpinOutcome::Met:
            backoff.hit();
            return true;
        case SpinOutcome::Missed:
            backoff.miss();
            return false;
        case SpinOutcome::NoRoom:  // others were polling: says nothing about this site
            return false;
    }
    return false;
}

}  // namespace toyos::iouring
