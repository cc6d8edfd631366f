// HostRingExecutor: runs ring operations on real host io_uring rings through liburing.
//
// A fixed set of reactors (one per core by default, never one per toy ring): each owns a
// host ring and a kernel thread that is its single issuer. Toy requests reach a reactor
// through a Boost.Lockfree queue; the reactor turns everything queued into host SQEs and
// submits them with one io_uring_enter, reaps host CQEs in batches and completes the toy
// requests. Toy registered buffers and files are mirrored into the host ring's registered
// tables, so READ_FIXED/WRITE_FIXED and IOSQE_FIXED_FILE stay fixed on the host.
//
// Beside them, when the kernel exposes such devices: a passthrough ring (SQE128/CQE32) for
// IORING_OP_URING_CMD on NVMe generic char devices, and an IOPOLL ring for O_DIRECT reads
// and writes of toy IOPOLL rings on block devices whose queues poll.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "iouring/executor.h"
#include "iouring/host_features.h"
#include "kernel/result.h"

namespace toyos::iouring {

class ThreadExecutor;
class HostReactor;

struct HostRingConfig {
    unsigned reactors = 0;   // 0: one per host core, at most 4
    unsigned entries = 512;  // SQ entries per host ring
    bool sqpoll = false;     // host rings in SQPOLL mode, sharing one poller thread
    unsigned sqpoll_idle_ms = 1000;
    int sqpoll_cpu = -1;
    // An idle reactor (no host I/O in flight) polls its queue this long before it sleeps in
    // the host (iouring/spin_wait.h). 0: it sleeps at once.
    uint64_t spin_ns = 200000;
    bool passthrough = false;  // an SQE128/CQE32 ring for URING_CMD (NVMe passthrough)
    bool iopoll = false;       // an IOPOLL ring for O_DIRECT I/O on polling block devices
    bool count_ops = true;     // per-operation counters (toyos run --stats off: false)
    // Sleep in poll(2) on the ring fd (1 ms at a time) instead of in io_uring_enter: for
    // running under valgrind, whose io_uring_enter wrapper blocks every thread while it
    // waits. Environment: TOYOS_HOST_WAIT=poll.
    bool poll_wait = false;
    // Fault injection (host-ring:fail): the host ring setup fails with this errno, so the
    // kernel takes its real fallback path. 0: none.
    int inject_setup_error = 0;
};

struct HostExecutorStats {
    uint64_t host_enters = 0;        // io_uring_enter calls made on host rings
    uint64_t host_sqes = 0;          // SQEs submitted to host rings
    uint64_t host_cqes = 0;          // CQEs reaped from host rings
    uint64_t fixed_buffer_ops = 0;   // READ_FIXED/WRITE_FIXED that stayed fixed on the host
    uint64_t fixed_file_ops = 0;     // IOSQE_FIXED_FILE ops that used a host fixed file
    uint64_t passthrough_ops = 0;    // URING_CMD run on the host SQE128/CQE32 ring
    uint64_t iopoll_ops = 0;         // reads/writes run on the host IOPOLL ring
    uint64_t reactor_sleeps = 0;     // times a reactor slept in the host waiting for work
    uint64_t reactor_spin_hits = 0;  // times work arrived while an idle reactor polled
    unsigned rings = 0;
    unsigned threads = 0;
    bool passthrough_ring = false;
    bool iopoll_ring = false;
};

class HostRingExecutor final : public Executor {
  public:
    static kernel::Result<std::unique_ptr<HostRingExecutor>> create(const HostRingConfig& config,
                                                                    const HostFeatures& features);
    ~HostRingExecutor() override;

    const char* name() const override { return "uring"; }
    void issue(Request* req) override;
    void flush() override;
    int cancel(Request* req) override;
    bool supports(const Request& req) const override;
    void registrations_changed(SyscallCompletionRing& ring) override;
    void ring_closed(SyscallCompletionRing& ring) override;

    HostExecutorStats stats() const;
    const HostRingConfig& config() const { return config_; }
    const char* setup_description() const { return setup_description_.c_str(); }

  private:
    HostRingExecutor(const HostRingConfig& config, const HostFeatures& features);
    // Hands the calling thread's staged batch to its reactor.
    static void push_staged();
    HostReactor& reactor_for(const SyscallCompletionRing* ring) const;
    HostReactor& reactor_for(const Request& req) const;

    HostRingConfig config_;
    HostFeatures features_;
    std::string setup_description_;
    std::vector<std::unique_ptr<HostReactor>> reactors_;  // general rings, one per core
    std::unique_ptr<HostReactor> passthrough_;            // SQE128/CQE32, when configured
    std::unique_ptr<HostReactor> iopoll_;                 // IOPOLL, when configured
};

}  // namespace toyos::iouring
