#include "kernel/process_table.h"

namespace toyos::kernel {

Result<ProcessRef> ProcessTable::create(Kernel& kernel, pid_t ppid, std::string name) {
    std::lock_guard lock(mutex_);
    if (procs_.size() >= kMaxProcesses) return err(EAGAIN);
    const pid_t pid = next_pid_++;
    auto p = std::make_shared<Process>(kernel, pid, ppid, std::move(name));
    procs_.emplace(pid, p);
    return p;
}

ProcessRef ProcessTable::find(pid_t pid) const {
    std::lock_guard lock(mutex_);
    auto it = procs_.find(pid);
    return it == procs_.end() ? nullptr : it->second;
}

std::vector<ProcessRef> ProcessTable::all() const {
    std::lock_guard lock(mutex_);
    std::vector<ProcessRef> out;
    out.reserve(procs_.size());
    for (auto& [pid, p] : procs_) out.push_back(p);
    return out;
}

size_t ProcessTable::live_count() const {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (auto& [pid, p] : procs_) n += p->state() != ProcessState::Zombie ? 1 : 0;
    return n;
}

void ProcessTable::exited(Process& p) {
    std::lock_guard lock(mutex_);
    // Orphans: children of the exiting process lose their parent; zombies among them go now.
    for (auto it = procs_.begin(); it != procs_.end();) {
        Process& c = *it->second;
        if (c.ppid() == p.pid()) {
            c.set_ppid(kOrphan);
            if (c.state() == ProcessState::Zombie) {
                it = procs_.erase(it);
                continue;
            }
        }
        ++it;
    }
    // No parent will wait: reap now. (ppid 0 is the kernel itself, which waits with
    // wait_and_reap.)
    if (p.ppid() == kOrphan || (p.ppid() > 0 && procs_.find(p.ppid()) == procs_.end()))
        procs_.erase(p.pid());
    changed_.notify_all();
}

Result<std::pair<pid_t, int>> ProcessTable::wait_child(Process& parent, pid_t pid, bool nohang) {
    std::unique_lock lock(mutex_);
    for (;;) {
        bool have_child = false;
        for (auto it = procs_.begin(); it != procs_.end(); ++it) {
            Process& c = *it->second;
            if (c.ppid() != parent.pid() || (pid > 0 && c.pid() != pid)) continue;
            have_child = true;
            if (c.state() == ProcessState::Zombie) {
                auto result = std::make_pair(c.pid(), c.wait_status());
                procs_.erase(it);
                return result;
            }
        }
        if (!have_child) return err(ECHILD);
        if (nohang) return std::make_pair(pid_t{0}, 0);
        if (parent.killed()) return err(EINTR);
        changed_.wait_for(lock, std::chrono::milliseconds(20));
    }
}

Result<int> ProcessTable::wait_and_reap(pid_t pid) {
    std::unique_lock lock(mutex_);
    for (;;) {
        auto it = procs_.find(pid);
        if (it == procs_.end()) return err(ECHILD);
        if (it->second->state() == ProcessState::Zombie) {
            int status = it->second->wait_status();
            procs_.erase(it);
            return status;
        }
        changed_.wait(lock);
    }
}

}  // namespace toyos::kernel
