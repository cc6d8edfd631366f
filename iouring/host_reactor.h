// HostReactor: one host io_uring ring and the kernel thread that is its only issuer.
// Requests arrive through a Boost.Lockfree queue; commands (registration mirrors, cancels)
// through a second one and run on the reactor thread, which owns every host-ring call.
#pragma once

#include <liburing.h>

#include <atomic>
#include <functional>
#include <semaphore>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/lockfree/queue.hpp>

#include "iouring/host_features.h"
#include "iouring/host_ring_executor.h"
#include "iouring/spin_wait.h"
#include "kernel/result.h"

namespace toyos::iouring {

struct Request;
class SyscallCompletionRing;

class HostReactor {
  public:
    // General: every ordinary operation. Passthrough: an SQE128/CQE32 ring for URING_CMD.
    // Iopoll: an IORING_SETUP_IOPOLL ring; it has no eventfd read armed (IOPOLL rings take
    // only pollable I/O), so it polls while I/O is in flight and sleeps on the eventfd else.
    enum class Kind { General, Passthrough, Iopoll };

    HostReactor(unsigned index, const HostRingConfig& config, const HostFeatures& features,
                Kind kind = Kind::General);
    ~HostReactor();
    HostReactor(const HostReactor&) = delete;
    HostReactor& operator=(const HostReactor&) = delete;

    // Creates the host ring on the reactor thread; `attach_fd` >= 0 shares that ring's
    // SQPOLL thread (IORING_SETUP_ATTACH_WQ).
    kernel::Result<void> start(int attach_fd);
    int ring_fd() const { return ring_fd_; }
    unsigned setup_flags() const { return setup_flags_; }

    // Takes a batch of requests linked through exec_next: one queue operation, and the
    // reactor turns all of it into SQEs of one host submission.
    void push_batch(Request* head);
    void wake_if_sleeping();
    // Runs `fn` on the reactor thread and waits for it (inline when already there).
    void run_sync(const std::function<void()>& fn);
    int cancel(Request* req);

    void mirror_registrations(SyscallCompletionRing& ring);
    void forget_ring(SyscallCompletionRing& ring);

    std::atomic<uint64_t> host_enters{0};
    std::atomic<uint64_t> host_sqes{0};
    std::atomic<uint64_t> host_cqes{0};
    std::atomic<uint64_t> fixed_buffer_ops{0};
    std::atomic<uint64_t> fixed_file_ops{0};
    // Passthrough and IOPOLL rings: toy requests this ring completed (wake-up reads and
    // cancels not counted).
    std::atomic<uint64_t> device_ops{0};
    // Waits for work: in the host (a wake-up costs the submitter an eventfd write), or
    // satisfied while polling first.
    std::atomic<uint64_t> sleeps{0};
    std::atomic<uint64_t> spin_hits{0};

  private:
    struct Command {
        std::function<void()> fn;
        std::binary_semaphore done{0};
    };
    struct CancelWait {
        std::binary_semaphore done{0};
        int result = 0;
    };
    // Host table slots mirrored for one toy ring.
    struct Mirror {
        int buf_base = -1;
        unsigned buf_count = 0;
        int file_base = -1;
        unsigned file_count = 0;
    };
    // First-fit allocator of contiguous slot ranges in a host table.
    struct SlotRanges {
        unsigned size = 0;
        std::vector<std::pair<unsigned, unsigned>> used;  // (base, count), sorted
        int alloc(unsigned n);
        void release(int base);
    };

    void loop();
    void iopoll_loop();
    unsigned setup_ring_flags() const;
    bool run_commands();
    unsigned drain_requests();
    bool prep(Request* req);
    // Completes what reap() gathered, one call per run of requests of the same toy ring.
    void complete_gathered(Request** reqs, int32_t* res, unsigned n);
    unsigned reap();
    int submit(bool wait);
    void wait_poll();
    static void count(std::atomic<uint64_t>& c, uint64_t n = 1) {
        // Written by the reactor thread only: no locked read-modify-write needed.
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void arm_wake();
    bool spin_for_work();
    bool on_reactor_thread() const;

    const unsigned index_;
    const Kind kind_;
    const HostRingConfig config_;
    const HostFeatures features_;
    io_uring ring_{};
    int ring_fd_ = -1;
    unsigned setup_flags_ = 0;
    int attach_fd_ = -1;
    int wake_fd_ = -1;
    uint64_t wake_value_ = 0;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> sleeping_{false};
    std::atomic<uint64_t> pending_{0};
    boost::lockfree::queue<Request*> queue_{4096};
    boost::lockfree::queue<Command*> commands_{256};
    std::vector<Request*> backlog_;  // popped but no host SQE free yet
    unsigned unsubmitted_ = 0;       // SQEs prepared since the last enter
    unsigned host_inflight_ = 0;
    std::unordered_map<const SyscallCompletionRing*, Mirror> mirrors_;
    SlotRanges buf_slots_, file_slots_;
    std::binary_semaphore started_{0};
    SpinBackoff spin_backoff_;
    int start_error_ = 0;
};

}  // namespace toyos::iouring
