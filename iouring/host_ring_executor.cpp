#include "iouring/host_ring_executor.h"

#include <thread>

#include "iouring/host_reactor.h"
#include "iouring/ops/op_def.h"
#include "iouring/request.h"
#include "iouring/ring.h"
#include "kernel/log.h"

namespace toyos::iouring {
namespace {

// The requests one thread issued since its last flush(), for one reactor: the SQEs of one toy
// enter reach the host in one batch (and one io_uring_enter), whatever the reactor is doing
// meanwhile. A ring issues only from after_unlock(), which flushes right after.
struct StagedBatch {
    HostReactor* reactor = nullptr;
    Request* head = nullptr;
    Request* tail = nullptr;
};
thread_local StagedBatch t_staged;

}  // namespace

void HostRingExecutor::push_staged() {
    StagedBatch& s = t_staged;
    if (s.head == nullptr) return;
    HostReactor* r = s.reactor;
    Request* head = s.head;
    s = StagedBatch{};
    r->push_batch(head);
    r->wake_if_sleeping();
}

HostRingExecutor::HostRingExecutor(const HostRingConfig& config, const HostFeatures& features)
    : config_(config), features_(features) {}

kernel::Result<std::unique_ptr<HostRingExecutor>> HostRingExecutor::create(
    const HostRingConfig& config, const HostFeatures& features) {
    if (!features.available) return kernel::err(ENOSYS);
    if (config.sqpoll && !features.sqpoll) return kernel::err(EOPNOTSUPP);
    std::unique_ptr<HostRingExecutor> ex(new HostRingExecutor(config, features));
    unsigned n = config.reactors;
    if (n == 0) n = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    int attach = -1;
    for (unsigned i = 0; i < n; ++i) {
        auto r = std::make_unique<HostReactor>(i, config, features);
        TOYOS_TRY_VOID(r->start(config.sqpoll ? attach : -1));
        if (attach < 0) attach = r->ring_fd();
        ex->reactors_.push_back(std::move(r));
    }
    if (config.passthrough) {
        if (!features.passthrough) {
            spdlog::warn(
                "io_uring: the host cannot create SQE128/CQE32 rings; URING_CMD runs "
                "through the nvme ioctl on the thread pool");
        } else {
            auto r =
                std::make_unique<HostReactor>(n, config, features, HostReactor::Kind::Passthrough);
            if (auto started = r->start(-1); started.ok())
                ex->passthrough_ = std::move(r);
            else
                spdlog::warn("io_uring: no passthrough ring ({}); URING_CMD uses the ioctl path",
                             strerrordesc_np(started.error()));
        }
    }
    if (config.iopoll) {
        if (!features.iopoll) {
            spdlog::warn(
                "io_uring: the host cannot create IOPOLL rings; polled I/O completes "
                "through interrupts on the general rings");
        } else {
            auto r =
                std::make_unique<HostReactor>(n + 1, config, features, HostReactor::Kind::Iopoll);
            if (auto started = r->start(-1); started.ok())
                ex->iopoll_ = std::move(r);
            else
                spdlog::warn("io_uring: no IOPOLL ring ({}); polled I/O uses the general rings",
                             strerrordesc_np(started.error()));
        }
    }
    const unsigned flags = ex->reactors_.front()->setup_flags();
    ex->setup_description_ = std::to_string(n) + " host ring(s)";
    if (flags & IORING_SETUP_SQPOLL) ex->setup_description_ += " sqpoll(shared poller)";
    if (flags & IORING_SETUP_SINGLE_ISSUER) ex->setup_description_ += " single_issuer";
    if (flags & IORING_SETUP_DEFER_TASKRUN) ex->setup_description_ += " defer_taskrun";
    if (flags & IORING_SETUP_COOP_TASKRUN) ex->setup_description_ += " coop_taskrun";
    if (ex->passthrough_) ex->setup_description_ += " + passthrough ring (sqe128/cqe32)";
    if (ex->iopoll_) ex->setup_description_ += " + iopoll ring";
    return ex;
}

HostRingExecutor::~HostRingExecutor() = default;

HostReactor& HostRingExecutor::reactor_for(const SyscallCompletionRing* ring) const {
    // A toy ring always uses one reactor: its requests stay in order and batch together.
    return *reactors_[static_cast<size_t>(ring->id()) % reactors_.size()];
}

HostReactor& HostRingExecutor::reactor_for(const Request& req) const {
    if (op_def(req.opcode).host == HostLane::Passthrough && passthrough_) return *passthrough_;
    // A toy IOPOLL ring's O_DIRECT I/O on a device whose queue polls goes to the host IOPOLL
    // ring; the rest (and every other ring) to the ring's general reactor.
    if (iopoll_ && (req.ring->setup_flags() & IORING_SETUP_IOPOLL) && req.file &&
        req.file->pollable() && req.file->direct())
        return *iopoll_;
    return reactor_for(req.ring);
}

bool HostRingExecutor::supports(const Request& req) const {
    switch (op_def(req.opcode).host) {
        case HostLane::Passthrough:
            return passthrough_ != nullptr;
        case HostLane::General:
            break;
        case HostLane::None:
            return false;  // kernel-object ops (OPENAT, CLOSE, LSEEK) run on the thread pool
    }
    if (!features_.ops[req.opcode]) return false;
    if (req.host_fd < 0) return false;  // a kernel object (/proc): read by the thread pool
    // A toy O_NONBLOCK file must see -EAGAIN; the host ring would wait instead.
    if (req.file && req.file->nonblocking()) return false;
    return true;
}

void HostRingExecutor::issue(Request* req) {
    req->executor.store(this, std::memory_order_release);
    req->exec_state.store(ExecState::Queued, std::memory_order_release);
    req->exec_next = nullptr;
    HostReactor* r = &reactor_for(*req);
    StagedBatch& s = t_staged;
    if (s.head != nullptr && s.reactor != r) push_staged();  // one batch per reactor
    if (s.head == nullptr) {
        s.reactor = r;
        s.head = req;
    } else {
        s.tail->exec_next = req;
    }
    s.tail = req;
}

void HostRingExecutor::flush() {
    push_staged();
}

int HostRingExecutor::cancel(Request* req) {
    return reactor_for(*req).cancel(req);
}

void HostRingExecutor::registrations_changed(SyscallCompletionRing& ring) {
    ring.mark_registrations_mirrored();
    reactor_for(&ring).mirror_registrations(ring);
    if (iopoll_ && (ring.setup_flags() & IORING_SETUP_IOPOLL)) iopoll_->mirror_registrations(ring);
}

void HostRingExecutor::ring_closed(SyscallCompletionRing& ring) {
    // The reactors keep nothing of a ring but its mirrored registrations (their requests are
    // all back: shutdown waited), so most rings close without a round trip to the reactor.
    if (!ring.registrations_mirrored()) return;
    reactor_for(&ring).forget_ring(ring);
    if (iopoll_ && (ring.setup_flags() & IORING_SETUP_IOPOLL)) iopoll_->forget_ring(ring);
}

HostExecutorStats HostRingExecutor::stats() const {
    HostExecutorStats s;
    auto add = [&](const HostReactor& r) {
        s.host_enters += r.host_enters.load();
        s.host_sqes += r.host_sqes.load();
        s.host_cqes += r.host_cqes.load();
        s.fixed_buffer_ops += r.fixed_buffer_ops.load();
        s.fixed_file_ops += r.fixed_file_ops.load();
        s.reactor_sleeps += r.sleeps.load();
        s.reactor_spin_hits += r.spin_hits.load();
        ++s.rings;
        ++s.threads;
    };
    for (const auto& r : reactors_) add(*r);
    if (passthrough_) {
        add(*passthrough_);
        s.passthrough_ops = passthrough_->device_ops.load();
        s.passthrough_ring = true;
    }
    if (iopoll_) {
        add(*iopoll_);
        s.iopoll_ops = iopoll_->device_ops.load();
        s.iopoll_ring = true;
    }
    return s;
}

}  // namespace toyos::iouring
