// The io_uring subsystem's view in /proc and in the final stats snapshot. Figures are summed
// from the rings' own counters when read (no global counter on the hot path). docs/proc.md.
#include <cinttypes>
#include <sstream>

#include "iouring/manager.h"
#include "iouring/ops/op_def.h"
#include "iouring/request.h"

namespace toyos::iouring {
namespace {

const char* yes_no(bool b) {
    return b ? "yes" : "no";
}

}  // namespace

std::string IoUringManager::proc_global_text() const {
    const IoUringStats st = stats();
    HostExecutorStats hs;
    if (host_) hs = host_->stats();
    std::ostringstream out;
    out << "ActiveRings:\t" << st.active_rings << "\n"
        << "TotalSubmissions:\t" << st.total_submissions << "\n"
        << "TotalCompletions:\t" << st.total_completions << "\n"
        << "Pending:\t" << st.pending << "\n"
        << "Overflowed:\t" << st.overflowed << "\n"
        << "Cancelled:\t" << st.cancelled << "\n"
        << "Lost:\t" << st.lost << "\n"
        << "Duplicated:\t" << st.duplicated << "\n"
        << "CompletedAtTeardown:\t" << st.completed_at_teardown << "\n"
        << "RingsChecked:\t" << st.rings_checked << "\n"
        << "CqesPosted:\t" << st.cqes_posted << "\n"
        << "ToyEnters:\t" << st.enters << "\n"
        << "ToyWaitsSpun:\t" << st.waits_spun << "\n"
        << "ToyWaitsSlept:\t" << st.waits_slept << "\n"
        << "HostEnters:\t" << hs.host_enters << "\n"
        << "HostSqes:\t" << hs.host_sqes << "\n"
        << "HostCqes:\t" << hs.host_cqes << "\n"
        << "HostFixedBufferOps:\t" << hs.fixed_buffer_ops << "\n"
        << "HostFixedFileOps:\t" << hs.fixed_file_ops << "\n"
        << "HostReactorSleeps:\t" << hs.reactor_sleeps << "\n"
        << "HostReactorSpinHits:\t" << hs.reactor_spin_hits << "\n"
        << "SpinMicros:\t" << kernel_.config().spin_ns / 1000 << "\n"
        << "HostRings:\t" << hs.rings << "\n"
        << "HostThreads:\t" << hs.threads << "\n"
        << "Executor:\t" << executor_->name() << "\n"
        << "Stats:\t" << (stats_enabled() ? "on" : "off") << "\n"
        << "HostSqpoll:\t" << yes_no(host_ && host_->config().sqpoll) << "\n"
        << "HostPassthroughRing:\t" << yes_no(hs.passthrough_ring) << "\n"
        << "HostPassthroughOps:\t" << hs.passthrough_ops << "\n"
        << "HostIopollRing:\t" << yes_no(hs.iopoll_ring) << "\n"
        << "HostIopollOps:\t" << hs.iopoll_ops << "\n"
        << "FeatureSqpoll:\t" << yes_no(features_.sqpoll) << "\n"
        << "FeatureIopoll:\t" << yes_no(features_.iopoll) << "\n"
        << "FeaturePassthrough:\t" << yes_no(features_.passthrough) << "\n"
        << "FeatureFixedBuffers:\t" << yes_no(features_.sparse_buffers) << "\n"
        << "FeatureFixedFiles:\t" << yes_no(features_.sparse_files) << "\n"
        << "FeatureSingleIssuer:\t" << yes_no(features_.single_issuer) << "\n"
        << "FeatureDeferTaskrun:\t" << yes_no(features_.defer_taskrun) << "\n"
        << "FeatureCoopTaskrun:\t" << yes_no(features_.coop_taskrun) << "\n";
    out << "ExecutorFallback:\t" << (executor_fallback_.empty() ? "none" : executor_fallback_)
        << "\n";
    // Injected faults (toyos run --fault): the plan and what it injected so far.
    const FaultCounters* fc = faults_ != nullptr ? &faults_->counters() : nullptr;
    auto fault_count = [&](const std::atomic<uint64_t> FaultCounters::*c) {
        return fc != nullptr ? (fc->*c).load(std::memory_order_relaxed) : 0;
    };
    out << "FaultRules:\t" << (faults_ != nullptr ? faults_->rule_count() : 0) << "\n"
        << "FaultSeed:\t" << (faults_ != nullptr ? faults_->seed() : 0) << "\n"
        << "FaultErrors:\t" << fault_count(&FaultCounters::errors) << "\n"
        << "FaultShort:\t" << fault_count(&FaultCounters::short_ops) << "\n"
        << "FaultDelays:\t" << fault_count(&FaultCounters::delays) << "\n"
        << "FaultRegisterErrors:\t" << fault_count(&FaultCounters::register_errors) << "\n"
        << "FaultHostRingFailures:\t" << fault_count(&FaultCounters::host_ring_failures) << "\n";
    // The devices in /dev, as "name:kind[:io_poll]".
    out << "Devices:\t";
    bool first = true;
    for (const auto& [name, d] : kernel_.devfs().devices()) {
        out << (first ? "" : " ") << name << ":" << kernel::file_kind_name(d.kind)
            << (d.io_poll ? ":io_poll" : "");
        first = false;
    }
    out << "\n";
    // Every opcode toyos knows, always listed, so the keys stay put.
    for (int op = 0; op < 256; ++op)
        if (const char* name = opcode_name(static_cast<uint8_t>(op)))
            out << "Op." << name << ":\t" << st.op_count[op] << "\n";
    return out.str();
}

std::string IoUringManager::proc_process_text(kernel::Process& proc) const {
    std::string out;
    for (const auto& [fd, ring] : rings_of(proc)) {
        if (!out.empty()) out += "\n";
        out += ring->fdinfo(fd);
    }
    return out;
}

std::string IoUringManager::stats_json() const {
    const IoUringStats st = stats();
    HostExecutorStats hs;
    if (host_) hs = host_->stats();
    std::ostringstream out;
    out << "{\"stats\":" << (stats_enabled() ? "true" : "false")
        << ",\"active_rings\":" << st.active_rings
        << ",\"total_submissions\":" << st.total_submissions
        << ",\"total_completions\":" << st.total_completions << ",\"pending\":" << st.pending
        << ",\"overflowed\":" << st.overflowed << ",\"cancelled\":" << st.cancelled
        << ",\"cqes_posted\":" << st.cqes_posted << ",\"lost\":" << st.lost
        << ",\"duplicated\":" << st.duplicated
        << ",\"completed_at_teardown\":" << st.completed_at_teardown
        << ",\"rings_checked\":" << st.rings_checked << ",\"toy_enters\":" << st.enters
        << ",\"host_enters\":" << hs.host_enters << ",\"host_sqes\":" << hs.host_sqes
        << ",\"host_cqes\":" << hs.host_cqes << ",\"host_rings\":" << hs.rings
        << ",\"toy_waits_spun\":" << st.waits_spun << ",\"toy_waits_slept\":" << st.waits_slept
        << ",\"host_reactor_sleeps\":" << hs.reactor_sleeps
        << ",\"host_reactor_spin_hits\":" << hs.reactor_spin_hits << ",\"executor\":\""
        << executor_->name() << "\"";
    if (faults_ != nullptr) {
        const FaultCounters& fc = faults_->counters();
        out << ",\"faults\":{\"seed\":" << faults_->seed() << ",\"errors\":" << fc.errors.load()
            << ",\"short\":" << fc.short_ops.load() << ",\"delays\":" << fc.delays.load()
            << ",\"register_errors\":" << fc.register_errors.load()
            << ",\"host_ring_failures\":" << fc.host_ring_failures.load() << "}";
    }
    out << ",\"ops\":{";
    bool first = true;
    for (int op = 0; op < 256; ++op) {
        const char* name = opcode_name(static_cast<uint8_t>(op));
        if (name == nullptr || st.op_count[op] == 0) continue;
        out << (first ? "" : ",") << "\"" << name << "\":" << st.op_count[op];
        first = false;
    }
    out << "},\"rings\":[";
    std::lock_guard lock(mutex_);
    first = true;
    auto ring_json = [&](pid_t pid, int id, bool live, uint64_t enters, uint64_t sub, uint64_t comp,
                         uint64_t ovf, uint64_t canc) {
        out << (first ? "" : ",") << "{\"pid\":" << pid << ",\"ring\":" << id
            << ",\"live\":" << (live ? "true" : "false") << ",\"enters\":" << enters
            << ",\"submitted\":" << sub << ",\"completed\":" << comp
            << ",\"pending\":" << sub - comp << ",\"overflowed\":" << ovf
            << ",\"cancelled\":" << canc << "}";
        first = false;
    };
    for (const RetiredRing& r : retired_rings_)
        ring_json(r.pid, r.ring, false, r.enters, r.submitted, r.completed, r.overflowed,
                  r.cancelled);
    for (const SyscallCompletionRing* r : rings_) {
        const RingStats& s = r->stats();
        ring_json(r->owner_pid(), r->id(), true, s.enters.load(), s.submitted.load(),
                  s.completed.load(), s.overflowed.load(), s.cancelled.load());
    }
    out << "]}";
    return out.str();
}

}  // namespace toyos::iouring
