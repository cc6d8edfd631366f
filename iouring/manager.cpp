#include "iouring/manager.h"

#include <fcntl.h>

#include <cstdlib>
#include <cstring>

#include "iouring/clock.h"
#include "iouring/ring_file.h"
#include "kernel/log.h"

namespace toyos::iouring {

using kernel::err;
using kernel::Result;

IoUringManager::IoUringManager(kernel::Kernel& kernel) : kernel_(kernel) {
    if (kernel.config().trace) trace_ = std::make_unique<TraceLog>(monotonic_ns());
    threads_ = std::make_unique<ThreadExecutor>(kernel.async());
    executor_ = threads_.get();
    features_ = HostFeatures::probe();
    spdlog::info("io_uring: host features: {}", features_.describe());
    const kernel::KernelConfig& cfg = kernel.config();
    if (cfg.faults != nullptr && !cfg.faults->empty()) {
        faults_ = cfg.faults.get();
        spdlog::warn("io_uring: injecting faults, seed {}: {} rule(s)", faults_->seed(),
                     faults_->rule_count());
    }
    std::string want = cfg.executor;
    if (want.empty()) {
        const char* env = std::getenv("TOYOS_EXECUTOR");
        want = env != nullptr && *env != '\0' ? env : "uring";
    }
    if (want == "uring") {
        HostRingConfig hc;
        hc.reactors = cfg.host_rings;
        hc.sqpoll = cfg.sqpoll;
        hc.sqpoll_idle_ms = cfg.sqpoll_idle_ms;
        hc.sqpoll_cpu = cfg.sqpoll_cpu;
        hc.spin_ns = cfg.spin_ns;
        hc.count_ops = cfg.stats;
        if (const char* w = std::getenv("TOYOS_HOST_WAIT"); w != nullptr && *w != '\0') {
            hc.poll_wait = std::strcmp(w, "poll") == 0;
            if (!hc.poll_wait && std::strcmp(w, "enter") != 0)
                spdlog::warn("io_uring: TOYOS_HOST_WAIT={} is not poll or enter; ignored", w);
        }
        // The passthrough and IOPOLL rings exist only when there is a device to use them.
        hc.passthrough = kernel.devfs().has_passthrough();
        hc.iopoll = kernel.devfs().has_polling_queue();
        hc.inject_setup_error = faults_ != nullptr ? faults_->host_ring_error() : 0;
        auto host = HostRingExecutor::create(hc, features_);
        if (host.ok()) {
            host_ = std::move(host.value());
            executor_ = host_.get();
            spdlog::info("io_uring: executor=uring ({})", host_->setup_description());
        } else {
            // Operations still run, on the thread pool, with the same results.
            const bool injected = hc.inject_setup_error != 0;
            if (injected) faults_->counters().host_ring_failures.fetch_add(1);
            executor_fallback_ = std::string(strerrorname_np(host.error())) +
                                 (injected ? " (injected: host-ring)" : "");
            spdlog::warn("io_uring: host rings unavailable ({}{}); executor=threads",
                         strerrordesc_np(host.error()), injected ? ", injected by --fault" : "");
        }
    } else {
        spdlog::info("io_uring: executor=threads");
    }
    kernel.procfs().add_global("iouring", [this] { return proc_global_text(); });
    kernel.procfs().add_per_process("iouring",
                                    [this](kernel::Process& p) { return proc_process_text(p); });
}

IoUringManager::~IoUringManager() {
    closer_.stop();  // what it holds still needs the executors
    std::unordered_map<pid_t, std::shared_ptr<KernelRing>> rings;
    {
        std::lock_guard lock(mutex_);
        rings.swap(kernel_rings_);
    }
    for (auto& [pid, kr] : rings) kr->ring->shutdown();
    // A timer callback may still be in a ring's issue loop, about to flush an executor, after
    // the request it issued completed and the ring went: the timer thread ends first.
    timers_.stop();
    host_.reset();
}

Result<int> IoUringManager::setup(kernel::Process& proc, uint32_t entries,
                                  io_uring_params& params) {
    params.sq_entries = entries;
    // The process's ring limit (Linux has none of its own but RLIMIT_NOFILE: EMFILE too).
    const auto& usage = proc.usage();
    if (!kernel::ResourceUsage::take_all<uint32_t>(usage->rings, 1, proc.limits().max_rings))
        return err(EMFILE);
    auto ring = SyscallCompletionRing::create(*this, proc, params);
    if (ring.is_error()) {
        usage->rings.fetch_sub(1, std::memory_order_relaxed);
        return err(ring.error());
    }
    ring.value()->hold_ring_slot();
    return proc.fds().install(std::make_shared<RingFile>(std::move(ring.value())));
}

void IoUringManager::add_ring(SyscallCompletionRing* ring) {
    std::lock_guard lock(mutex_);
    rings_.insert(ring);
}

void IoUringManager::remove_ring(SyscallCompletionRing* ring) {
    if (trace_) trace_->absorb(ring->owner_pid(), ring->owner_name(), ring->take_trace());
    std::lock_guard lock(mutex_);
    if (rings_.erase(ring) == 0) return;
    const RingStats& s = ring->stats();
    if (retired_rings_.size() < kMaxRetiredRings)
        retired_rings_.push_back(RetiredRing{ring->owner_pid(), ring->id(), s.enters.load(),
                                             s.submitted.load(), s.completed.load(),
                                             s.overflowed.load(), s.cancelled.load()});
    retired_.total_submissions += s.submitted.load();
    retired_.total_completions += s.completed.load();
    retired_.overflowed += s.overflowed.load();
    retired_.cancelled += s.cancelled.load();
    retired_.enters += s.enters.load();
    retired_.cqes_posted += s.cqes_posted.load();
    retired_.waits_spun += s.waits_spun.load();
    retired_.waits_slept += s.waits_slept.load();
    retired_.lost += s.lost.load();
    retired_.duplicated += s.duplicated.load();
    retired_.completed_at_teardown += s.completed_at_teardown.load();
    retired_.rings_checked += s.ledger_closed.load();
    for (size_t i = 0; i < 256; ++i) retired_.op_count[i] += s.op_count[i].load();
}

std::vector<std::pair<int, std::shared_ptr<SyscallCompletionRing>>> IoUringManager::rings_of(
    kernel::Process& proc) const {
    std::vector<std::pair<int, std::shared_ptr<SyscallCompletionRing>>> out;
    for (const auto& [fd, file] : proc.fds().snapshot())
        if (file->kind() == kernel::FileKind::Ring)
            out.emplace_back(fd, static_cast<const RingFile&>(*file).ring());
    if (auto kr = kernel_ring(proc.pid())) out.emplace_back(-1, kr->ring);
    return out;
}

IoUringStats IoUringManager::stats() const {
    std::lock_guard lock(mutex_);
    IoUringStats st = retired_;
    st.active_rings = rings_.size();
    for (const SyscallCompletionRing* r : rings_) {
        const RingStats& s = r->stats();
        st.total_submissions += s.submitted.load();
        st.total_completions += s.completed.load();
        st.overflowed += s.overflowed.load();
        st.cancelled += s.cancelled.load();
        st.enters += s.enters.load();
        st.cqes_posted += s.cqes_posted.load();
        st.lost += s.lost.load();
        st.duplicated += s.duplicated.load();
        st.completed_at_teardown += s.completed_at_teardown.load();
        st.rings_checked += s.ledger_closed.load();
        st.waits_spun += s.waits_spun.load();
        st.waits_slept += s.waits_slept.load();
        for (size_t i = 0; i < 256; ++i) st.op_count[i] += s.op_count[i].load();
    }
    st.pending = st.total_submissions - st.total_completions;
    return st;
}

// --- Seed 004's kernel-side API --------------------------------------------------------------

std::shared_ptr<IoUringManager::KernelRing> IoUringManager::kernel_ring(pid_t pid) const {
    std::lock_guard lock(mutex_);
    auto it = kernel_rings_.find(pid);
    return it == kernel_rings_.end() ? nullptr : it->second;
}

Result<void> IoUringManager::create_ring(pid_t pid, std::optional<uint32_t> sq_entries,
                                         std::optional<uint32_t> cq_entries) {
    kernel::ProcessRef proc = kernel_.processes().find(pid);
    if (!proc || proc->state() == kernel::ProcessState::Zombie) return err(ESRCH);
    if (kernel_ring(pid)) return err(EEXIST);
    io_uring_params p{};
    if (cq_entries) {
        p.flags |= IORING_SETUP_CQSIZE;
        p.cq_entries = *cq_entries;
    }
    p.sq_entries = sq_entries.value_or(RingLimits::kDefaultSqEntries);
    auto kr = std::make_shared<KernelRing>();
    kr->ring = TOYOS_TRY(SyscallCompletionRing::create(*this, *proc, p));
    {
        std::lock_guard lock(mutex_);
        if (!kernel_rings_.emplace(pid, kr).second) return err(EEXIST);
    }
    // When the process ends, whatever it still has in flight ends Cancelled.
    proc->on_exit([this](kernel::Process& exiting) {
        std::shared_ptr<KernelRing> gone;
        {
            std::lock_guard lock(mutex_);
            auto it = kernel_rings_.find(exiting.pid());
            if (it == kernel_rings_.end()) return;
            gone = std::move(it->second);
            kernel_rings_.erase(it);
        }
        gone->ring->shutdown();
    });
    return {};
}

Result<uint64_t> IoUringManager::submit(pid_t pid, const SyscallSubmissionEntry& entry) {
    auto kr = kernel_ring(pid);
    if (!kr) return err(ENXIO);
    std::lock_guard lock(kr->mutex);
    SyscallCompletionRing& ring = *kr->ring;
    const RingMemory& mem = ring.memory();
    // Produce the SQE exactly as a userland submitter would.
    const uint32_t tail = mem.sq_tail().load(std::memory_order_relaxed);
    const uint32_t slot = tail & mem.sq_mask();
    io_uring_sqe sqe = entry.sqe;
    const uint64_t seq = ring.next_seq();
    sqe.user_data = seq;
    std::memcpy(const_cast<void*>(mem.sqe(slot)), &sqe, sizeof(sqe));
    mem.sq_array(tail).store(slot, std::memory_order_relaxed);
    mem.sq_tail().store(tail + 1, std::memory_order_release);
    kernel::ProcessRef proc = kernel_.processes().find(pid);
    if (!proc) return err(ESRCH);
    auto n = ring.enter(*proc, 1, 0, 0, -1);
    if (n.is_error() || n.value() != 1) {
        mem.sq_tail().store(tail, std::memory_order_release);  // take it back
        return err(n.is_error() ? n.error() : EAGAIN);
    }
    kr->user_data[seq] = entry.sqe.user_data;
    return seq;
}

void IoUringManager::drain_kernel_ring(KernelRing& kr) {
    kr.ring->drain_cqes(
        [&](const io_uring_cqe& cqe) {
            SyscallCompletionEntry e;
            e.seq = cqe.user_data;
            auto ud = kr.user_data.find(e.seq);
            if (ud != kr.user_data.end()) {
                e.user_data = ud->second;
                kr.user_data.erase(ud);
            }
            e.res = cqe.res;
            e.flags = cqe.flags;
            if (cqe.res == -ECANCELED) {
                e.status = CompletionStatus::Cancelled;
            } else if (cqe.res < 0) {
                e.status = CompletionStatus::Error;
                e.error = -cqe.res;
                e.message = strerrordesc_np(e.error);
            }
            kr.done.emplace(e.seq, std::move(e));
        },
        UINT32_MAX);
}

Result<std::vector<SyscallCompletionEntry>> IoUringManager::reap_completions(pid_t pid,
                                                                             size_t max) {
    auto kr = kernel_ring(pid);
    if (!kr) return err(ENXIO);
    std::lock_guard lock(kr->mutex);
    drain_kernel_ring(*kr);
    std::vector<SyscallCompletionEntry> out;
    while (!kr->done.empty() && out.size() < max) {
        out.push_back(std::move(kr->done.begin()->second));
        kr->done.erase(kr->done.begin());
    }
    return out;
}

Result<SyscallCompletionEntry> IoUringManager::wait_completion(pid_t pid, uint64_t seq) {
    auto kr = kernel_ring(pid);
    if (!kr) return err(ENXIO);
    for (;;) {
        {
            std::lock_guard lock(kr->mutex);
            drain_kernel_ring(*kr);
            auto it = kr->done.find(seq);
            if (it != kr->done.end()) {
                SyscallCompletionEntry e = std::move(it->second);
                kr->done.erase(it);
                return e;
            }
            if (kr->user_data.find(seq) == kr->user_data.end()) return err(ENOENT);
        }
        kernel::ProcessRef proc = kernel_.processes().find(pid);
        if (!proc) return err(ESRCH);
        auto w = kr->ring->wait_cqes(*proc, 1, 50'000'000);
        if (w.is_error() && w.error() == EINTR) return err(EINTR);
    }
}

// --- The ring route ------------------------------------------------------------------------

bool IoUringManager::ring_capable(int nr) {
    using namespace abi;
    switch (nr) {
        case TOYOS_SYS_read:
        case TOYOS_SYS_write:
        case TOYOS_SYS_pread:
        case TOYOS_SYS_pwrite:
        case TOYOS_SYS_open:
        case TOYOS_SYS_openat:
        case TOYOS_SYS_close:
        case TOYOS_SYS_fsync:
        case TOYOS_SYS_fdatasync:
        case TOYOS_SYS_lseek:
        case TOYOS_SYS_sendto:
        case TOYOS_SYS_recvfrom:
        case TOYOS_SYS_accept:
        case TOYOS_SYS_connect:
            return true;
        default:
            return false;
    }
}

kernel::SysResult IoUringManager::ring_route(kernel::Process& proc, int nr,
                                             const kernel::SyscallArgs& args) {
    using namespace abi;
    const long* a = args.a;
    SyscallSubmissionEntry e;
    io_uring_sqe& s = e.sqe;
    s.fd = static_cast<int32_t>(a[0]);
    switch (nr) {
        case TOYOS_SYS_read:
        case TOYOS_SYS_write:
            s.opcode = nr == TOYOS_SYS_read ? IORING_OP_READ : IORING_OP_WRITE;
            s.addr = static_cast<uint64_t>(a[1]);
            s.len = static_cast<uint32_t>(std::min<uint64_t>(a[2], 0x7ffff000));
            s.off = UINT64_MAX;  // the file position (IORING_FEAT_RW_CUR_POS)
            break;
        case TOYOS_SYS_pread:
        case TOYOS_SYS_pwrite:
            if (a[3] < 0) return err(EINVAL);
            s.opcode = nr == TOYOS_SYS_pread ? IORING_OP_READ : IORING_OP_WRITE;
            s.addr = static_cast<uint64_t>(a[1]);
            s.len = static_cast<uint32_t>(std::min<uint64_t>(a[2], 0x7ffff000));
            s.off = static_cast<uint64_t>(a[3]);
            break;
        case TOYOS_SYS_open:
            s.opcode = IORING_OP_OPENAT;
            s.fd = AT_FDCWD;
            s.addr = static_cast<uint64_t>(a[0]);
            s.open_flags = static_cast<uint32_t>(a[1]);
            s.len = static_cast<uint32_t>(a[2]);
            break;
        case TOYOS_SYS_openat:
            s.opcode = IORING_OP_OPENAT;
            s.addr = static_cast<uint64_t>(a[1]);
            s.open_flags = static_cast<uint32_t>(a[2]);
            s.len = static_cast<uint32_t>(a[3]);
            break;
        case TOYOS_SYS_close:
            s.opcode = IORING_OP_CLOSE;
            break;
        case TOYOS_SYS_fsync:
        case TOYOS_SYS_fdatasync:
            s.opcode = IORING_OP_FSYNC;
            s.fsync_flags = nr == TOYOS_SYS_fdatasync ? IORING_FSYNC_DATASYNC : 0;
            break;
        case TOYOS_SYS_lseek:
            s.opcode = IORING_OP_TOYOS_LSEEK;
            s.off = static_cast<uint64_t>(a[1]);
            s.len = static_cast<uint32_t>(a[2]);
            break;
        case TOYOS_SYS_sendto:
        case TOYOS_SYS_recvfrom: {
            if (a[4] != 0) {
                // An address needs a user msghdr; this one runs direct (docs/routing.md).
                const kernel::SyscallEntry* entry = kernel_.syscalls().find(nr);
                if (entry == nullptr) return err(ENOSYS);
                kernel::SyscallContext ctx{kernel_, proc};
                return entry->fn(ctx, args);
            }
            s.opcode = nr == TOYOS_SYS_sendto ? IORING_OP_SEND : IORING_OP_RECV;
            s.addr = static_cast<uint64_t>(a[1]);
            s.len = static_cast<uint32_t>(std::min<uint64_t>(a[2], 0x7ffff000));
            s.msg_flags = static_cast<uint32_t>(a[3]);
            break;
        }
        case TOYOS_SYS_accept:
            s.opcode = IORING_OP_ACCEPT;
            s.addr = static_cast<uint64_t>(a[1]);
            s.addr2 = static_cast<uint64_t>(a[2]);
            break;
        case TOYOS_SYS_connect:
            s.opcode = IORING_OP_CONNECT;
            s.addr = static_cast<uint64_t>(a[1]);
            s.off = static_cast<uint64_t>(a[2]);
            break;
        default:
            return err(ENOSYS);
    }
    if (!kernel_ring(proc.pid())) {
        auto created = create_ring(proc.pid());
        if (created.is_error() && created.error() != EEXIST) return err(created.error());
    }
    const uint64_t seq = TOYOS_TRY(submit(proc.pid(), e));
    SyscallCompletionEntry c = TOYOS_TRY(wait_completion(proc.pid(), seq));
    if (c.res < 0) return err(-c.res);
    return c.res;
}

}  // namespace toyos::iouring
