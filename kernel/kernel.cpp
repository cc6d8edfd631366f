#include "kernel/kernel.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cxxabi.h>
#include <cstring>
#include <sstream>
#include <typeinfo>

#include "iouring/manager.h"
#include "kernel/blocking.h"
#include "kernel/log.h"
#include "kernel/path.h"

namespace toyos::kernel {
namespace {

struct ThreadBoot {
    ProcessRef proc;
    ProgramMain main;
    int argc;
    char** argv;
};

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string parse_routes(const std::string& spec, const SyscallHandlerRegistry& registry,
                         std::array<Route, SyscallHandlerRegistry::kMax>& routes) {
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (item.empty()) continue;
        auto eq = item.find('=');
        if (eq == std::string::npos) return "route '" + item + "' is not NAME=PATH";
        const std::string name = item.substr(0, eq), path = item.substr(eq + 1);
        Route r;
        if (path == "direct")
            r = Route::Direct;
        else if (path == "async")
            r = Route::Async;
        else if (path == "ring")
            r = Route::Ring;
        else
            return "route path '" + path + "' is not direct, async or ring";
        auto apply = [&](int nr) { routes[nr] = r; };
        if (name == "all") {
            registry.for_each([&](int nr, const SyscallEntry& e) {
                if (e.routable && (r != Route::Ring || iouring::IoUringManager::ring_capable(nr)))
                    apply(nr);
            });
            continue;
        }
        int nr = registry.number_of(name);
        if (nr < 0) return "unknown syscall '" + name + "'";
        const SyscallEntry* entry = registry.find(nr);
        if (entry != nullptr && !entry->routable && r != Route::Direct)
            return "syscall '" + name + "' can only run direct";
        if (r == Route::Ring && !iouring::IoUringManager::ring_capable(nr))
            return "syscall '" + name + "' has no io_uring opcode (it can run direct or async)";
        apply(nr);
    }
    return {};
}

Kernel::Kernel(KernelConfig config, ProgramCatalog catalog)
    : config_(std::move(config)), catalog_(std::move(catalog)) {}

Result<std::unique_ptr<Kernel>> Kernel::boot(KernelConfig config, ProgramCatalog catalog) {
    // A write to a socket whose peer left must be EPIPE for that process, not the end of
    // every process.
    ::signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<Kernel> k(new Kernel(std::move(config), std::move(catalog)));
    auto vfs = Vfs::mount(k->config_.root);
    if (vfs.is_error()) {
        spdlog::error("cannot open sandbox root '{}': {}", k->config_.root,
                      std::strerror(vfs.error()));
        return err(vfs.error());
    }
    k->vfs_ = std::move(vfs).value();
    k->procfs_ = std::make_unique<ProcFs>(*k);
    add_kernel_proc_files(*k);
    for (const DeviceInfo& d : k->config_.stand_in_devices)
        TOYOS_TRY_VOID(k->devfs_.add_stand_in(d));
    TOYOS_TRY_VOID(k->devfs_.expose(k->config_.devices, k->config_.nvme));
    register_all_syscalls(k->syscalls_);
    k->async_ = std::make_unique<AsyncSyscallExecutor>(k->config_.async_workers);
    k->io_uring_ = std::make_unique<iouring::IoUringManager>(*k);
    k->ring_route_ = [kp = k.get()](Process& p, int nr, const SyscallArgs& args) {
        return kp->io_uring_->ring_route(p, nr, args);
    };
    k->reaper_ = std::thread([kp = k.get()] { kp->reaper_loop(); });
    spdlog::info("kernel booted: root={} async_workers={}", k->vfs_->root_path(),
                 k->async_->workers());
    return k;
}

Kernel::~Kernel() {
    for (auto& p : processes_.all())
        if (p->state() != ProcessState::Zombie) p->kill(9);
    {
        std::unique_lock lock(threads_mutex_);
        const bool all_joined =
            threads_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return unjoined_.empty(); });
        if (!all_joined) {
            // A program in a loop that never enters the kernel cannot be stopped: its thread
            // still uses kernel memory, so the only safe way out is to end the host process.
            spdlog::critical("{} process(es) did not exit after kill; aborting", unjoined_.size());
            std::_Exit(70);
        }
        stopping_ = true;
    }
    threads_cv_.notify_all();
    if (reaper_.joinable()) reaper_.join();
    for (auto it = shutdown_hooks_.rbegin(); it != shutdown_hooks_.rend(); ++it) (*it)();
    io_uring_.reset();
    async_.reset();
    ProgramCatalog::unload_released();
}

Result<FileRef> Kernel::open_file(Process& proc, int dirfd, const std::string& path, int flags,
                                  mode_t mode) {
    const bool relative = !path.empty() && path[0] != '/';
    int dir_host_fd = -1;
    if (dirfd != AT_FDCWD && relative) {
        FileRef dir = TOYOS_TRY(proc.fds().get(dirfd));
        if (dir->kind() != FileKind::Directory || dir->host_fd() < 0) return err(ENOTDIR);
        dir_host_fd = dir->host_fd();
    }
    std::string vfs_path = path;
    if (dir_host_fd < 0) {
        if (auto comps = ProcFs::components(path)) {
            FileRef f = TOYOS_TRY(procfs_->open(proc, *comps, flags));
            return f;
        }
        if (auto comps = DevFs::components(path)) return devfs_.open(*comps, flags);
        if (auto rest = path_after_leaving("proc", path))
            vfs_path = *rest;
        else if (auto rest2 = path_after_leaving("dev", path))
            vfs_path = *rest2;
    }
    const int host_fd = TOYOS_TRY(vfs_->open(vfs_path, flags, mode, dir_host_fd));
    FileRef f = HostFile::adopt(host_fd, path);
    f->set_nonblocking((flags & O_NONBLOCK) != 0);
    f->set_device_flags((flags & O_DIRECT) != 0, false);
    return f;
}

Result<void> Kernel::stat_path(Process& proc, const std::string& path, struct stat* st) {
    if (auto comps = ProcFs::components(path)) return procfs_->stat(proc, *comps, st);
    if (auto comps = DevFs::components(path)) return devfs_.stat(*comps, st);
    if (auto rest = path_after_leaving("proc", path)) return vfs_->stat(*rest, st);
    if (auto rest = path_after_leaving("dev", path)) return vfs_->stat(*rest, st);
    return vfs_->stat(path, st);
}

namespace {

// A kernel object's stat as a statx: the basic fields, which is all it has.
void statx_from_stat(const struct stat& st, struct statx* out) {
    *out = {};
    out->stx_mask = STATX_BASIC_STATS;
    out->stx_blksize = static_cast<uint32_t>(st.st_blksize);
    out->stx_nlink = static_cast<uint32_t>(st.st_nlink);
    out->stx_uid = st.st_uid;
    out->stx_gid = st.st_gid;
    out->stx_mode = static_cast<uint16_t>(st.st_mode);
    out->stx_ino = st.st_ino;
    out->stx_size = static_cast<uint64_t>(st.st_size);
    out->stx_blocks = static_cast<uint64_t>(st.st_blocks);
    out->stx_atime = {st.st_atim.tv_sec, static_cast<uint32_t>(st.st_atim.tv_nsec), 0};
    out->stx_mtime = {st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec), 0};
    out->stx_ctime = {st.st_ctim.tv_sec, static_cast<uint32_t>(st.st_ctim.tv_nsec), 0};
    out->stx_rdev_major = major(st.st_rdev);
    out->stx_rdev_minor = minor(st.st_rdev);
    out->stx_dev_major = major(st.st_dev);
    out->stx_dev_minor = minor(st.st_dev);
}

}  // namespace

Result<void> Kernel::statx_path(Process& proc, int dirfd, const std::string& path, int flags,
                                unsigned mask, struct statx* out) {
    constexpr int kFlags =
        AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE;
    if (flags & ~kFlags) return err(EINVAL);
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return err(EINVAL);
    if (mask & STATX__RESERVED) return err(EINVAL);
    FileRef f;
    if (path.empty()) {
        if (!(flags & AT_EMPTY_PATH)) return err(ENOENT);
        // The file dirfd names; the working directory (the sandbox root) for AT_FDCWD.
        f = dirfd == AT_FDCWD ? TOYOS_TRY(open_file(proc, AT_FDCWD, "/", O_PATH, 0))
                              : TOYOS_TRY(proc.fds().get(dirfd));
    } else {
        // Resolved once, confined, as an O_PATH file; then asked about itself. The last
        // component is not followed with AT_SYMLINK_NOFOLLOW (the link itself, as Linux).
        const int oflags = O_PATH | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0);
        f = TOYOS_TRY(open_file(proc, dirfd, path, oflags, 0));
    }
    if (f->host_fd() >= 0) {
        if (::statx(f->host_fd(), "", AT_EMPTY_PATH | (flags & AT_STATX_SYNC_TYPE), mask, out) < 0)
            return err(errno);
        return {};
    }
    struct stat st {};
    TOYOS_TRY_VOID(f->fstat(&st));
    statx_from_stat(st, out);
    return {};
}

Result<pid_t> Kernel::spawn(Process* parent, const std::string& program,
                            const std::vector<std::string>& argv) {
    LoadedProgram prog;
    if (catalog_.has_builtin(program)) {
        prog = TOYOS_TRY(catalog_.load_builtin(program));
    } else if (parent == nullptr) {
        prog = TOYOS_TRY(catalog_.load_shared_object(program));
    } else {
        // A toy process may only run code that lives inside its sandbox.
        int fd = TOYOS_TRY(vfs_->open(program, O_RDONLY | O_NONBLOCK, 0));
        auto loaded = catalog_.load_shared_object_fd(fd, program);
        ::close(fd);
        prog = TOYOS_TRY(std::move(loaded));
    }
    ProcessRef p =
        TOYOS_TRY(processes_.create(*this, parent ? parent->pid() : 0, basename_of(program)));
    for (const auto& region : prog.image) p->memory().add(region);
    p->program_image_ = prog.owner;
    for (int fd = 0; fd <= 2; ++fd) {
        if (parent != nullptr) {
            auto f = parent->fds().get(fd);
            if (f.ok()) (void)p->fds().install_at(fd, f.value());
        } else {
            if (FileRef console = HostFile::adopt_console(fd))
                (void)p->fds().install_at(fd, std::move(console));
        }
    }
    auto started = start_thread(p, prog.main, argv);
    if (started.is_error()) {
        p->program_image_.reset();  // no thread to join: the reaper never sees it
        p->finish(127 << 8);
        processes_.exited(*p);
        return err(started.error());
    }
    spdlog::debug("spawned pid {} ({}) parent {}", p->pid(), p->name(), p->ppid());
    return p->pid();
}

Result<int> Kernel::run(const std::string& program, const std::vector<std::string>& argv) {
    pid_t pid = TOYOS_TRY(spawn(nullptr, program, argv));
    return processes_.wait_and_reap(pid);
}

Result<void> Kernel::start_thread(const ProcessRef& p, ProgramMain main,
                                  const std::vector<std::string>& argv) {
    auto stack = TOYOS_TRY(
        HostMapping::anonymous(config_.stack_size, PROT_READ | PROT_WRITE, /*guard=*/true));
    p->memory().add(
        Region{stack->start(), stack->start() + stack->length(), true, RegionKind::Stack, stack});
    p->stack_ = stack;

    // argv lives in memory the process owns, like the strings on a Linux process's stack.
    size_t bytes = (argv.size() + 1) * sizeof(char*);
    for (const auto& a : argv) bytes += a.size() + 1;
    auto block = TOYOS_TRY(HostMapping::anonymous(bytes, PROT_READ | PROT_WRITE));
    auto** vec = static_cast<char**>(block->base());
    char* strings = reinterpret_cast<char*>(vec + argv.size() + 1);
    for (size_t i = 0; i < argv.size(); ++i) {
        std::memcpy(strings, argv[i].c_str(), argv[i].size() + 1);
        vec[i] = strings;
        strings += argv[i].size() + 1;
    }
    vec[argv.size()] = nullptr;
    p->memory().add(Region{block->start(), block->start() + block->length(), true,
                           RegionKind::Anonymous, block});

    auto* boot = new ThreadBoot{p, main, static_cast<int>(argv.size()), vec};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack->base(), stack->length());
    p->state_.store(ProcessState::Running, std::memory_order_release);
    {
        std::lock_guard lock(threads_mutex_);
        int rc = pthread_create(&p->thread_, &attr, &Kernel::process_thread_entry, boot);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            delete boot;
            return err(rc);
        }
        p->thread_started_.store(true, std::memory_order_release);
        unjoined_.push_back(p);
        processes_started_.fetch_add(1, std::memory_order_relaxed);
    }
    return {};
}

void* Kernel::process_thread_entry(void* arg) {
    std::unique_ptr<ThreadBoot> boot(static_cast<ThreadBoot*>(arg));
    Process& p = *boot->proc;
    set_current_process(&p);

    // Runs on return and on the forced unwind of pthread_exit (exit or kill at the gate).
    struct Finisher {
        Process& p;
        bool returned = false;
        int code = 0;
        ~Finisher() {
            int status;
            if (p.exit_requested_.load(std::memory_order_acquire))
                status = (p.exit_code_ & 0xff) << 8;
            else if (returned)
                status = (code & 0xff) << 8;
            else
                status = p.kill_signal() & 0x7f;
            set_current_process(nullptr);
            p.finish(status);
            Kernel& k = p.kernel();
            for (int nr = 0; nr < SyscallHandlerRegistry::kMax; ++nr)
                for (int r = 0; r < kRouteCount; ++r)
                    if (auto n = p.syscall_count(nr, static_cast<Route>(r)))
                        k.retired_counts_[nr][r].fetch_add(n, std::memory_order_relaxed);
            p.counted_.store(true, std::memory_order_release);
            k.processes_.exited(p);
            k.threads_cv_.notify_all();
        }
    } finisher{p};

    try {
        finisher.code = boot->main(boot->argc, boot->argv);
    } catch (const std::exception& e) {
        spdlog::error("pid {} ({}): uncaught exception: {}", p.pid(), p.name(), e.what());
        finisher.code = 134;
    } catch (...) {
        // exit or kill: pthread_exit's forced unwind (a foreign exception to C++, so no
        // type here) must go on. (Catching abi::__forced_unwind& by name would bind a
        // reference to no object, which UBSan rightly reports.)
        const std::type_info* type = ::abi::__cxa_current_exception_type();
        if (type == nullptr || *type == typeid(::abi::__forced_unwind)) throw;
        spdlog::error("pid {} ({}): uncaught exception", p.pid(), p.name());
        finisher.code = 134;
    }
    finisher.returned = true;
    return nullptr;
}

void Kernel::reaper_loop() {
    std::unique_lock lock(threads_mutex_);
    for (;;) {
        std::vector<ProcessRef> done;
        for (auto it = unjoined_.begin(); it != unjoined_.end();) {
            if ((*it)->state() == ProcessState::Zombie) {
                done.push_back(std::move(*it));
                it = unjoined_.erase(it);
            } else {
                ++it;
            }
        }
        if (!done.empty()) {
            lock.unlock();
            for (auto& p : done) {
                pthread_join(p->thread_, nullptr);
                p->stack_.reset();  // still alive while an operation in flight pins it
                // Likewise its image, through its regions.
                p->program_image_.reset();
            }
            ProgramCatalog::unload_released();
            lock.lock();
            threads_cv_.notify_all();
            continue;
        }
        if (stopping_ && unjoined_.empty()) return;
        threads_cv_.wait_for(lock, std::chrono::milliseconds(50));
        // Images an operation in flight kept past their process's join (never under the lock:
        // dlclose runs the program's destructors).
        lock.unlock();
        ProgramCatalog::unload_released();
        lock.lock();
    }
}

uint64_t Kernel::syscall_count(int nr, Route route) const {
    uint64_t total = retired_counts_[nr][static_cast<int>(route)].load();
    for (const auto& p : processes_.all())
        if (!p->counted_.load(std::memory_order_acquire)) total += p->syscall_count(nr, route);
    return total;
}

// The handler runs on a pool worker, but never waits there: when it would block it hands
// what it waits for back (kernel/blocking.h), this thread (the caller's, idle until the call
// ends) waits for it, killably, and posts the handler again. The handoff is shared with the
// work, which may still be running when a kill ends the wait.
SysResult Kernel::dispatch_async(Process& proc, SyscallFn fn, const SyscallArgs& args) {
    auto handoff = std::make_shared<WaitHandoff>();
    for (;;) {
        auto ticket =
            async_->submit([this, self = proc.shared_from_this(), fn, args, handoff]() -> long {
                SyscallContext ctx{*this, *self, handoff.get()};
                SysResult res = fn(ctx, args);
                return res.ok() ? res.value() : -res.error();
            });
        if (ticket.is_error()) return err(ticket.error());
        const long result = TOYOS_TRY(ticket->wait(&proc));
        if (result >= 0) return result;
        if (result != -kRestartWhenReady) return err(static_cast<int>(-result));
        const FileRef file = std::move(handoff->file);
        TOYOS_TRY_VOID(wait_for_fd(proc, file->host_fd(), handoff->events));
    }
}

long Kernel::dispatch(Process& proc, long nr, const SyscallArgs& args) {
    const SyscallEntry* entry = syscalls_.find(static_cast<int>(nr));
    if (entry == nullptr) return -ENOSYS;
    const Route route = entry->routable ? config_.routes[nr] : Route::Direct;
    proc.count_syscall(static_cast<int>(nr), route);
    SysResult r = err(ENOSYS);
    switch (route) {
        case Route::Direct: {
            SyscallContext ctx{*this, proc};
            r = entry->fn(ctx, args);
            break;
        }
        case Route::Async:
            r = dispatch_async(proc, entry->fn, args);
            break;
        case Route::Ring:
            if (ring_route_) r = ring_route_(proc, static_cast<int>(nr), args);
            break;
    }
    return r.ok() ? r.value() : -r.error();
}

}  // namespace toyos::kernel
