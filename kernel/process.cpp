#include "kernel/process.h"

#include <algorithm>
#include <thread>

#include "kernel/kernel.h"

namespace toyos::kernel {
namespace {
thread_local Process* t_current = nullptr;
}  // namespace

Process* current_process() {
    return t_current;
}
void set_current_process(Process* p) {
    t_current = p;
}

const char* process_state_name(ProcessState s) {
    switch (s) {
        case ProcessState::Embryo:
            return "embryo";
        case ProcessState::Running:
            return "running";
        case ProcessState::Zombie:
            return "zombie";
    }
    return "?";
}

const char* route_name(Route r) {
    switch (r) {
        case Route::Direct:
            return "direct";
        case Route::Async:
            return "async";
        case Route::Ring:
            return "ring";
    }
    return "?";
}

const ResourceLimits& Process::limits() const {
    return kernel_.config().limits;
}

Process::Process(Kernel& kernel, pid_t pid, pid_t ppid, std::string name)
    : kernel_(kernel), pid_(pid), ppid_(ppid), name_(std::move(name)) {}

Process::~Process() = default;

void Process::kill(int sig) {
    int expected = 0;
    kill_signal_.compare_exchange_strong(expected, sig, std::memory_order_acq_rel);
}

void Process::request_exit(int code) {
    exit_code_ = code;
    exit_requested_.store(true, std::memory_order_release);
}

bool Process::sleep_interruptible(std::chrono::nanoseconds d) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (!killed()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return true;
        std::this_thread::sleep_for(
            std::min<std::chrono::nanoseconds>(deadline - now, std::chrono::milliseconds(20)));
    }
    return false;
}

void Process::on_exit(std::function<void(Process&)> hook) {
    std::lock_guard lock(hooks_mutex_);
    exit_hooks_.push_back(ExitHook{std::move(hook), {}, false});
}

void Process::on_exit(std::weak_ptr<const void> guard, std::function<void(Process&)> hook) {
    std::lock_guard lock(hooks_mutex_);
    if (exit_hooks_.size() >= prune_hooks_at_) {
        std::erase_if(exit_hooks_,
                      [](const ExitHook& h) { return h.guarded && h.guard.expired(); });
        prune_hooks_at_ = std::max<size_t>(16, 2 * exit_hooks_.size());
    }
    exit_hooks_.push_back(ExitHook{std::move(hook), std::move(guard), true});
}

void Process::finish(int wait_status) {
    std::vector<ExitHook> hooks;
    {
        std::lock_guard lock(hooks_mutex_);
        hooks.swap(exit_hooks_);
    }
    for (auto& h : hooks)
        if (!h.guarded || !h.guard.expired()) h.fn(*this);
    fds_.clear();
    memory_.clear();  // drops the regions; memory pinned by in-flight operations lives on
    wait_status_ = wait_status;
    state_.store(ProcessState::Zombie, std::memory_order_release);
}

}  // namespace toyos::kernel
