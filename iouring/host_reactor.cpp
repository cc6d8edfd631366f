#include "iouring/host_reactor.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "iouring/ops/op_def.h"
#include "iouring/request.h"
#include "iouring/ring.h"
#include "iouring/ring_closer.h"
#include "iouring/spin_wait.h"
#include "kernel/log.h"
#include "kernel/process.h"

namespace toyos::iouring {
namespace {

constexpr uint64_t kWakeTag = 1;    // the eventfd read that wakes a sleeping reactor
constexpr uint64_t kCancelTag = 2;  // low bit pattern of a CancelWait* (8-byte aligned)
constexpr unsigned kHostBufferSlots = 4096;
constexpr unsigned kHostFileSlots = 4096;
thread_local const HostReactor* t_reactor = nullptr;

}  // namespace

int HostReactor::SlotRanges::alloc(unsigned n) {
    unsigned base = 0;
    auto it = used.begin();
    for (; it != used.end(); ++it) {
        if (it->first - base >= n) break;
        base = it->first + it->second;
    }
    if (base + n > size) return -1;
    used.insert(it, {base, n});
    return static_cast<int>(base);
}

void HostReactor::SlotRanges::release(int base) {
    used.erase(std::remove_if(used.begin(), used.end(),
                              [&](const auto& r) { return static_cast<int>(r.first) == base; }),
               used.end());
}

HostReactor::HostReactor(unsigned index, const HostRingConfig& config, const HostFeatures& features,
                         Kind kind)
    : index_(index), kind_(kind), config_(config), features_(features) {
    // The passthrough ring runs commands on char devices only: no mirrored tables.
    const bool tables = kind != Kind::Passthrough;
    buf_slots_.size = tables && features.sparse_buffers ? kHostBufferSlots : 0;
    file_slots_.size = tables && features.sparse_files ? kHostFileSlots : 0;
}

HostReactor::~HostReactor() {
    if (thread_.joinable()) {
        stopping_.store(true, std::memory_order_seq_cst);
        const uint64_t one = 1;
        (void)!::write(wake_fd_, &one, sizeof(one));
        thread_.join();
    }
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool HostReactor::on_reactor_thread() const {
    return t_reactor == this;
}

kernel::Result<void> HostReactor::start(int attach_fd) {
    attach_fd_ = attach_fd;
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (wake_fd_ < 0) return kernel::err(errno);
    thread_ = std::thread([this] { loop(); });
    started_.acquire();
    if (start_error_ != 0) {
        thread_.join();
        return kernel::err(start_error_);
    }
    return {};
}

void HostReactor::push_batch(Request* head) {
    while (!queue_.bounded_push(head)) std::this_thread::yield();
    pending_.fetch_add(1, std::memory_order_seq_cst);
}

void HostReactor::wake_if_sleeping() {
    if (sleeping_.load(std::memory_order_seq_cst)) {
        const uint64_t one = 1;
        (void)!::write(wake_fd_, &one, sizeof(one));
    }
}

void HostReactor::run_sync(const std::function<void()>& fn) {
    if (on_reactor_thread()) {
        fn();
        return;
    }
    // Wake first, then hand the command over: once the reactor has run it, this thread
    // touches nothing of the reactor's (its destructor may close wake_fd_ right after).
    // pending_ keeps the reactor from going back to sleep in between.
    Command cmd{fn};
    pending_.fetch_add(1, std::memory_order_seq_cst);
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof(one));
    while (!commands_.bounded_push(&cmd)) std::this_thread::yield();
    cmd.done.acquire();
}

int HostReactor::cancel(Request* req) {
    req->cancel_requested.store(true, std::memory_order_release);
    // Polled block I/O cannot be cancelled on the host; it completes in microseconds.
    if (kind_ == Kind::Iopoll) return req->exec_state.load() == ExecState::Running ? -EALREADY : 0;
    if (on_reactor_thread()) {
        // Cannot wait for our own CQE: ask the host and let the target's CQE tell.
        if (req->exec_state.load() == ExecState::Running) {
            if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) {
                io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(req), 0);
                io_uring_sqe_set_data64(sqe, 0);
            }
        }
        return 0;
    }
    CancelWait wait;
    bool asked_host = false;
    run_sync([&] {
        if (req->exec_state.load() != ExecState::Running) return;  // queued: never submitted
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) {
            submit(false);
            sqe = io_uring_get_sqe(&ring_);
        }
        if (sqe == nullptr) return;
        io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(req), 0);
        io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(&wait) | kCancelTag);
        ++host_inflight_;
        asked_host = true;
        submit(false);
    });
    if (!asked_host) return 0;  // it completes with -ECANCELED when the reactor pops it
    wait.done.acquire();
    return wait.result;
}

void HostReactor::mirror_registrations(SyscallCompletionRing& ring) {
    run_sync([&] {
        Mirror& m = mirrors_[&ring];
        Registrations& regs = ring.registrations();
        // Buffers: drop the old range, register the current set in a fresh one.
        if (m.buf_base >= 0) {
            std::vector<iovec> empty(m.buf_count, iovec{nullptr, 0});
            io_uring_register_buffers_update_tag(&ring_, static_cast<unsigned>(m.buf_base),
                                                 empty.data(), nullptr, m.buf_count);
            buf_slots_.release(m.buf_base);
            m.buf_base = -1;
            m.buf_count = 0;
        }
        std::vector<iovec> iovs = regs.buffer_iovecs();
        if (!iovs.empty()) {
            const int base = buf_slots_.alloc(static_cast<unsigned>(iovs.size()));
            if (base >= 0 && io_uring_register_buffers_update_tag(
                                 &ring_, static_cast<unsigned>(base), iovs.data(), nullptr,
                                 static_cast<unsigned>(iovs.size())) >= 0) {
                m.buf_base = base;
                m.buf_count = static_cast<unsigned>(iovs.size());
            } else if (base >= 0) {
                buf_slots_.release(base);
                spdlog::warn(
                    "host ring {}: could not mirror {} registered buffers; "
                    "fixed reads run as plain reads",
                    index_, iovs.size());
            }
        }
        // Files
        if (m.file_base >= 0) {
            std::vector<int> empty(m.file_count, -1);
            io_uring_register_files_update(&ring_, static_cast<unsigned>(m.file_base), empty.data(),
                                           m.file_count);
            file_slots_.release(m.file_base);
            m.file_base = -1;
            m.file_count = 0;
        }
        std::vector<int> fds = regs.file_host_fds();
        if (!fds.empty()) {
            const int base = file_slots_.alloc(static_cast<unsigned>(fds.size()));
            if (base >= 0 &&
                io_uring_register_files_update(&ring_, static_cast<unsigned>(base), fds.data(),
                                               static_cast<unsigned>(fds.size())) >= 0) {
                m.file_base = base;
                m.file_count = static_cast<unsigned>(fds.size());
            } else if (base >= 0) {
                file_slots_.release(base);
            }
        }
    });
}

void HostReactor::forget_ring(SyscallCompletionRing& ring) {
    run_sync([&] {
        auto it = mirrors_.find(&ring);
        if (it == mirrors_.end()) return;
        Mirror& m = it->second;
        if (m.buf_base >= 0) {
            std::vector<iovec> empty(m.buf_count, iovec{nullptr, 0});
            io_uring_register_buffers_update_tag(&ring_, static_cast<unsigned>(m.buf_base),
                                                 empty.data(), nullptr, m.buf_count);
            buf_slots_.release(m.buf_base);
        }
        if (m.file_base >= 0) {
            std::vector<int> empty(m.file_count, -1);
            io_uring_register_files_update(&ring_, static_cast<unsigned>(m.file_base), empty.data(),
                                           m.file_count);
            file_slots_.release(m.file_base);
        }
        mirrors_.erase(it);
    });
}

void HostReactor::arm_wake() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
        submit(false);
        sqe = io_uring_get_sqe(&ring_);
    }
    io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof(wake_value_), 0);
    io_uring_sqe_set_data64(sqe, kWakeTag);
    ++host_inflight_;
}

// One io_uring_enter for everything prepared (and, with `wait`, for at least one CQE).
int HostReactor::submit(bool wait) {
    unsubmitted_ = 0;
    const bool sqpoll = setup_flags_ & IORING_SETUP_SQPOLL;
    if (sqpoll && !wait) {
        // The poller picks SQEs up by itself; liburing enters only to wake it.
        const unsigned flags = std::atomic_ref<unsigned>(*ring_.sq.kflags).load();
        if (flags & (IORING_SQ_NEED_WAKEUP | IORING_SQ_CQ_OVERFLOW)) count(host_enters);
        const int n = io_uring_submit(&ring_);
        if (n > 0) count(host_sqes, static_cast<uint64_t>(n));
        return n;
    }
    if (wait && config_.poll_wait) {
        wait_poll();
        return 0;
    }
    count(host_enters);
    const int n =
        wait ? io_uring_submit_and_wait(&ring_, 1) : io_uring_submit_and_get_events(&ring_);
    if (n > 0) count(host_sqes, static_cast<uint64_t>(n));
    return n;
}

// TOYOS_HOST_WAIT=poll: submit without blocking, then sleep in poll(2), at most 1 ms at a time
// (valgrind lets other threads run during poll, not during a blocking io_uring_enter).
void HostReactor::wait_poll() {
    count(host_enters);
    const int n = io_uring_submit_and_get_events(&ring_);
    if (n > 0) count(host_sqes, static_cast<uint64_t>(n));
    if (io_uring_cq_ready(&ring_) > 0) return;
    pollfd pfd{ring_fd_, POLLIN, 0};
    (void)::poll(&pfd, 1, 1);
}

bool HostReactor::run_commands() {
    Command* cmd = nullptr;
    bool any = false;
    while (commands_.pop(cmd)) {
        pending_.fetch_sub(1, std::memory_order_seq_cst);
        cmd->fn();
        cmd->done.release();
        any = true;
    }
    return any;
}

unsigned HostReactor::drain_requests() {
    unsigned prepared = 0;
    auto take = [&](Request* req) -> bool {
        if (req->cancel_requested.load(std::memory_order_acquire)) {
            req->exec_state.store(ExecState::Done, std::memory_order_release);
            req->ring->complete(req, -ECANCELED);
            return true;
        }
        if (!prep(req)) return false;
        ++prepared;
        return true;
    };
    size_t kept = 0;
    for (size_t i = 0; i < backlog_.size(); ++i)
        if (!take(backlog_[i])) backlog_[kept++] = backlog_[i];
    backlog_.resize(kept);
    Request* batch = nullptr;
    while (backlog_.empty() && queue_.pop(batch)) {
        pending_.fetch_sub(1, std::memory_order_seq_cst);
        for (Request* req = batch; req != nullptr;) {
            Request* next = req->exec_next;  // read first: a completed request may be reused
            if (!backlog_.empty() || !take(req)) backlog_.push_back(req);
            req = next;
        }
    }
    unsubmitted_ += prepared;
    return prepared;
}

bool HostReactor::prep(Request* r) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return false;
    const OpDef& def = op_def(r->opcode);
    const Mirror* m = nullptr;
    if (def.fixed_buffer || (r->sqe_flags & IOSQE_FIXED_FILE)) {
        auto it = mirrors_.find(r->ring);
        if (it != mirrors_.end()) m = &it->second;
    }
    HostTarget target{r->host_fd, -1};
    bool fixed_file = false;
    if ((r->sqe_flags & IOSQE_FIXED_FILE) && m != nullptr && m->file_base >= 0 &&
        static_cast<unsigned>(r->sqe_fd) < m->file_count) {
        target.fd = m->file_base + r->sqe_fd;
        fixed_file = true;
        if (config_.count_ops) count(fixed_file_ops);
    }
    if (def.fixed_buffer && m != nullptr && m->buf_base >= 0 && r->buf_index < m->buf_count) {
        target.fixed_buffer = m->buf_base + r->buf_index;
        if (config_.count_ops) count(fixed_buffer_ops);
    }
    def.host_prep(*sqe, *r, target);  // supports() took only rows with a host_prep
    if (fixed_file) sqe->flags |= IOSQE_FIXED_FILE;
    if (r->sqe_flags & IOSQE_ASYNC) sqe->flags |= IOSQE_ASYNC;
    io_uring_sqe_set_data(sqe, r);
    r->exec_state.store(ExecState::Running, std::memory_order_release);
    ++host_inflight_;
    return true;
}

void HostReactor::complete_gathered(Request** reqs, int32_t* res, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        Request* r = reqs[i];
        r->exec_state.store(ExecState::Done, std::memory_order_release);
        if (kind_ != Kind::General) device_ops.fetch_add(1, std::memory_order_relaxed);
        // What the operation still does in the kernel (ACCEPT installs the socket, ...).
        if (res[i] >= 0) {
            if (const auto finish = op_def(r->opcode).finish) res[i] = finish(*r, res[i]);
        }
    }
    // One lock and one wakeup per toy ring and batch.
    for (unsigned i = 0; i < n;) {
        SyscallCompletionRing* ring = reqs[i]->ring;
        unsigned j = i + 1;
        while (j < n && reqs[j]->ring == ring) ++j;
        ring->complete_many(reqs + i, res + i, j - i);
        i = j;
    }
}

unsigned HostReactor::reap() {
    constexpr unsigned kBatch = 64;
    io_uring_cqe* cqes[kBatch];
    Request* reqs[kBatch];
    int32_t results[kBatch];
    unsigned total = 0;
    for (;;) {
        const unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kBatch);
        if (n == 0) break;
        unsigned gathered = 0;
        bool rearm = false;
        for (unsigned i = 0; i < n; ++i) {
            const uint64_t ud = cqes[i]->user_data;
            const int32_t res = cqes[i]->res;
            if (ud == kWakeTag) {
                --host_inflight_;
                rearm = !stopping_.load();
                continue;
            }
            if (ud == 0) continue;  // a fire-and-forget cancel
            --host_inflight_;
            if ((ud & 7) == kCancelTag) {
                auto* w = reinterpret_cast<CancelWait*>(ud & ~uint64_t{7});
                w->result = res;
                w->done.release();
                continue;
            }
            auto* req = reinterpret_cast<Request*>(ud);
            if (kind_ == Kind::Passthrough) {
                req->big_cqe[0] = cqes[i]->big_cqe[0];
                req->big_cqe[1] = cqes[i]->big_cqe[1];
            }
            // Linux's recv flags data left in the socket; the toy CQE says the same.
            req->cqe_flags = cqes[i]->flags & IORING_CQE_F_SOCK_NONEMPTY;
            reqs[gathered] = req;
            results[gathered] = res;
            ++gathered;
        }
        io_uring_cq_advance(&ring_, n);
        if (rearm) arm_wake();
        complete_gathered(reqs, results, gathered);
        count(host_cqes, n);
        total += n;
    }
    return total;
}

unsigned HostReactor::setup_ring_flags() const {
    const unsigned issuer = features_.single_issuer ? IORING_SETUP_SINGLE_ISSUER : 0;
    if (kind_ == Kind::Iopoll) return IORING_SETUP_IOPOLL | issuer;
    const unsigned big = kind_ == Kind::Passthrough ? IORING_SETUP_SQE128 | IORING_SETUP_CQE32 : 0;
    if (config_.sqpoll && kind_ == Kind::General) return IORING_SETUP_SQPOLL;
    // TASKRUN_FLAG: the host flags IORING_SQ_TASKRUN when completions wait for us to enter,
    // so a polling reactor sees them without a syscall (and liburing's reap enters for them).
    if (features_.defer_taskrun)
        return big | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
               IORING_SETUP_TASKRUN_FLAG;
    if (features_.coop_taskrun)
        return big | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | issuer;
    return big;
}

void HostReactor::loop() {
    t_reactor = this;
    const RingTeardownDeferral deferral;
    io_uring_params p{};
    p.flags = setup_ring_flags();
    if (p.flags & IORING_SETUP_SQPOLL) {
        p.flags = IORING_SETUP_SQPOLL;
        p.sq_thread_idle = config_.sqpoll_idle_ms;
        if (config_.sqpoll_cpu >= 0) {
            p.flags |= IORING_SETUP_SQ_AFF;
            p.sq_thread_cpu = static_cast<unsigned>(config_.sqpoll_cpu);
        }
        if (attach_fd_ >= 0) {
            p.flags |= IORING_SETUP_ATTACH_WQ;
            p.wq_fd = static_cast<unsigned>(attach_fd_);
        }
    }
    int r = config_.inject_setup_error != 0
                ? -config_.inject_setup_error
                : io_uring_queue_init_params(config_.entries, &ring_, &p);
    if (r == -EINVAL && config_.inject_setup_error == 0 && (p.flags & IORING_SETUP_TASKRUN_FLAG)) {
        p.flags &= ~IORING_SETUP_TASKRUN_FLAG;  // older hosts: completions are seen by entering
        r = io_uring_queue_init_params(config_.entries, &ring_, &p);
    }
    if (r < 0) {
        start_error_ = -r;
        started_.release();
        return;
    }
    ring_fd_ = ring_.ring_fd;
    setup_flags_ = p.flags;
    if (buf_slots_.size > 0 && io_uring_register_buffers_sparse(&ring_, buf_slots_.size) < 0)
        buf_slots_.size = 0;
    if (file_slots_.size > 0 && io_uring_register_files_sparse(&ring_, file_slots_.size) < 0) {
        // Linux caps a file table at RLIMIT_NOFILE (1024 by default on a fresh system).
        rlimit nofile{};
        const unsigned cap =
            ::getrlimit(RLIMIT_NOFILE, &nofile) == 0
                ? static_cast<unsigned>(std::min<rlim_t>(nofile.rlim_cur, kHostFileSlots))
                : 0;
        if (cap >= 64 && io_uring_register_files_sparse(&ring_, cap) == 0) {
            file_slots_.size = cap;
        } else {
            file_slots_.size = 0;
            spdlog::warn("host ring {}: no registered file table; fixed files run as plain fds",
                         index_);
        }
    }
    if (kind_ == Kind::Iopoll) {
        started_.release();
        iopoll_loop();
        io_uring_queue_exit(&ring_);
        return;
    }
    arm_wake();
    submit(false);
    started_.release();

    const bool sqpoll = setup_flags_ & IORING_SETUP_SQPOLL;
    unsigned idle_spins = 0, busy_rounds = 0;
    while (!stopping_.load(std::memory_order_acquire)) {
        // Everything queued becomes host SQEs; they go to the host in one enter, which also
        // runs the completions that are ready (DEFER_TASKRUN) and, when there is nothing else
        // to do, waits for the next one: one io_uring_enter per batch, not two.
        bool progress = run_commands();
        if (drain_requests() > 0) progress = true;
        if (reap() > 0) progress = true;
        if (progress && ++busy_rounds < 2) continue;  // look once more before entering
        busy_rounds = 0;
        if (sqpoll) {
            // The host's poller takes the SQEs (submit only wakes it when it sleeps); spin a
            // little on the CQ before sleeping in the host.
            if (unsubmitted_ > 0) submit(false);
            if (progress) {
                idle_spins = 0;
                continue;
            }
            if (++idle_spins < 2000) {
                std::this_thread::yield();
                continue;
            }
            idle_spins = 0;
        } else if (progress) {
            if (unsubmitted_ > 0) submit(false);  // busy: submit without waiting
            continue;
        }
        // Poll a little for the next batch or completion before sleeping in the host: a busy
        // submitter then does not pay for waking us, nor we for being woken.
        if (unsubmitted_ == 0 && backlog_.empty() && spin_for_work()) {
            count(spin_hits);
            continue;
        }
        sleeping_.store(true, std::memory_order_seq_cst);
        if (pending_.load(std::memory_order_seq_cst) > 0 || !backlog_.empty()) {
            sleeping_.store(false, std::memory_order_seq_cst);
            continue;
        }
        count(sleeps);
        submit(true);  // what is prepared, and a wait for a completion or a wakeup
        sleeping_.store(false, std::memory_order_seq_cst);
    }
    // Stopping: the rings were shut down before the executor, so nothing is in flight but
    // the wake read.
    io_uring_queue_exit(&ring_);
}

bool HostReactor::spin_for_work() {
    // Host completions show as CQEs, or (deferred task work) as IORING_SQ_TASKRUN; without
    // TASKRUN_FLAG only an enter would show them, so then poll only while nothing is in
    // flight but the wake read.
    const bool see_completions = (setup_flags_ & IORING_SETUP_TASKRUN_FLAG) != 0;
    if (!see_completions && host_inflight_ > 1) return false;
    const unsigned* sq_flags = ring_.sq.kflags;
    return spin_until(config_.spin_ns, spin_backoff_, [&] {
        if (pending_.load(std::memory_order_acquire) > 0 ||
            stopping_.load(std::memory_order_relaxed))
            return true;
        if (host_inflight_ <= 1) return false;
        return io_uring_cq_ready(&ring_) > 0 ||
               (std::atomic_ref<const unsigned>(*sq_flags).load(std::memory_order_acquire) &
                IORING_SQ_TASKRUN) != 0;
    });
}

void HostReactor::iopoll_loop() {
    while (!stopping_.load(std::memory_order_acquire)) {
        bool progress = run_commands();
        if (drain_requests() > 0) {
            submit(false);
            progress = true;
        }
        if (reap() > 0) progress = true;
        if (progress) continue;
        if (host_inflight_ > 0) {
            // Polled I/O in flight: the host polls the device inside this enter.
            submit(true);
            continue;
        }
        // Nothing in flight: sleep on the eventfd until a request or command arrives.
        sleeping_.store(true, std::memory_order_seq_cst);
        if (pending_.load(std::memory_order_seq_cst) == 0 && backlog_.empty() &&
            !stopping_.load(std::memory_order_acquire)) {
            uint64_t v = 0;
            (void)!::read(wake_fd_, &v, sizeof(v));
        }
        sleeping_.store(false, std::memory_order_seq_cst);
    }
}

}  // namespace toyos::iouring
