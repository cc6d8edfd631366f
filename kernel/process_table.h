// ProcessTable: pids, parent/child links, zombies and waitpid.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <vector>

#include "kernel/process.h"

namespace toyos::kernel {

class ProcessTable {
  public:
    static constexpr size_t kMaxProcesses = 4096;
    static constexpr pid_t kOrphan = -1;  // ppid of a process whose parent exited

    // A new Embryo process with the next pid; EAGAIN when the table is full.
    Result<ProcessRef> create(Kernel& kernel, pid_t ppid, std::string name);
    ProcessRef find(pid_t pid) const;
    std::vector<ProcessRef> all() const;
    size_t live_count() const;  // not yet Zombie

    // Called by a process's thread once it is a Zombie: wakes waiters; reparents its children;
    // reaps it at once if its parent is gone.
    void exited(Process& p);

    // waitpid(pid, &status, WNOHANG?) for `parent`: (pid, wait status) of a reaped child,
    // (0, 0) with nohang and none ready, ECHILD if there is no such child, EINTR if the
    // waiter is killed.
    Result<std::pair<pid_t, int>> wait_child(Process& parent, pid_t pid, bool nohang);
    // Blocks (kernel side) until `pid` is a Zombie, reaps it, returns its wait status.
    Result<int> wait_and_reap(pid_t pid);

  private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::map<pid_t, ProcessRef> procs_;
    pid_t next_pid_ = 1;
};

}  // namespace toyos::kernel
