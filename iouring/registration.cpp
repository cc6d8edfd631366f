#include "iouring/registration.h"

#include <unistd.h>

#include <mutex>

#include "kernel/process.h"

namespace toyos::iouring {

using kernel::err;
using kernel::Result;

namespace {

// Bytes of the whole pages [addr, addr+len) touches: what pinning it would lock.
uint64_t pages_spanned(uintptr_t addr, size_t len) {
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t first = addr & ~(page - 1);
    const uintptr_t end = (addr + len + page - 1) & ~(page - 1);
    return end - first;
}

}  // namespace

Result<void> Registrations::register_buffers(kernel::Process& p, uint64_t iovecs, uint32_t n) {
    if (n == 0 || n > kMaxBuffers) return err(EINVAL);
    std::vector<iovec> vecs(n);
    TOYOS_TRY_VOID(p.memory().copy_from_user(vecs.data(), kernel::UserPtr<iovec>(iovecs), n));
    std::vector<RegisteredBuffer> bufs(n);
    uint64_t charge = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const auto addr = reinterpret_cast<uintptr_t>(vecs[i].iov_base);
        if (addr == 0) {
            if (vecs[i].iov_len != 0) return err(EFAULT);
            continue;  // a sparse slot
        }
        if (vecs[i].iov_len == 0 || vecs[i].iov_len > kMaxBufferLen) return err(EFAULT);
        // Linux (io_buffer_validate): a buffer whose pages would run past the top of the
        // address space is -EOVERFLOW, before any other check of its memory.
        uintptr_t end = 0;
        if (__builtin_add_overflow(addr, vecs[i].iov_len + 4095, &end)) return err(EOVERFLOW);
        auto buf = TOYOS_TRY(p.memory().access(addr, vecs[i].iov_len, kernel::Access::Write));
        bufs[i] = RegisteredBuffer{addr, vecs[i].iov_len, std::move(buf.pin)};
        charge += pages_spanned(addr, vecs[i].iov_len);
    }
    std::unique_lock lock(mutex_);
    if (!buffers_.empty()) return err(EBUSY);
    // The process's registered-buffer limit, as Linux charges RLIMIT_MEMLOCK: ENOMEM beyond.
    if (!kernel::ResourceUsage::take_all<uint64_t>(p.usage()->registered_bytes, charge,
                                                   p.limits().max_registered_bytes))
        return err(ENOMEM);
    buffers_ = std::move(bufs);
    charged_to_ = p.usage();
    charged_bytes_ = charge;
    return {};
}

void Registrations::uncharge_buffers_locked() {
    if (charged_to_ != nullptr)
        charged_to_->registered_bytes.fetch_sub(charged_bytes_, std::memory_order_relaxed);
    charged_to_.reset();
    charged_bytes_ = 0;
}

Result<void> Registrations::unregister_buffers() {
    std::vector<RegisteredBuffer> old;
    std::unique_lock lock(mutex_);
    if (buffers_.empty()) return err(ENXIO);
    old.swap(buffers_);
    uncharge_buffers_locked();
    return {};
}

Result<void> Registrations::register_files(kernel::Process& p, uint64_t fds, uint32_t n) {
    if (n == 0) return err(EINVAL);
    if (n > kMaxFiles) return err(EMFILE);  // Linux: past IORING_MAX_FIXED_FILES or RLIMIT_NOFILE
    std::vector<int> nums(n);
    TOYOS_TRY_VOID(p.memory().copy_from_user(nums.data(), kernel::UserPtr<int>(fds), n));
    std::vector<kernel::FileRef> files(n);
    for (uint32_t i = 0; i < n; ++i) {
        if (nums[i] == -1) continue;  // sparse
        kernel::FileRef f = TOYOS_TRY(p.fds().get(nums[i]));
        if (f->kind() == kernel::FileKind::Ring) return err(EBADF);  // no ring in a ring
        files[i] = std::move(f);
    }
    std::unique_lock lock(mutex_);
    if (files_registered_) return err(EBUSY);
    files_ = std::move(files);
    files_registered_ = true;
    return {};
}

Result<long> Registrations::update_files(kernel::Process& p, uint32_t offset, uint64_t fds,
                                         uint32_t n) {
    if (n == 0) return err(EINVAL);
    uint32_t last = 0;
    if (__builtin_add_overflow(offset, n, &last)) return err(EOVERFLOW);  // Linux, before ENXIO
    {
        // Checked before anything is allocated: n comes from userland and may be 2^32-1.
        std::unique_lock lock(mutex_);
        if (!files_registered_) return err(ENXIO);
        if (offset > files_.size() || n > files_.size() - offset) return err(EINVAL);
    }
    std::vector<int> nums(n);
    TOYOS_TRY_VOID(p.memory().copy_from_user(nums.data(), kernel::UserPtr<int>(fds), n));
    std::vector<kernel::FileRef> replaced;  // closed after the lock
    std::unique_lock lock(mutex_);
    if (!files_registered_) return err(ENXIO);
    if (offset > files_.size() || n > files_.size() - offset) return err(EINVAL);
    long done = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (nums[i] == -2) {  // IORING_REGISTER_FILES_SKIP
            ++done;
            continue;
        }
        kernel::FileRef f;
        if (nums[i] != -1) {
            auto got = p.fds().get(nums[i]);
            if (got.is_error() || got.value()->kind() == kernel::FileKind::Ring)
                return done > 0 ? Result<long>(done) : Result<long>(err(EBADF));
            f = std::move(got.value());
        }
        replaced.push_back(std::move(files_[offset + i]));
        files_[offset + i] = std::move(f);
        ++done;
    }
    return done;
}

Result<void> Registrations::unregister_files() {
    std::vector<kernel::FileRef> old;
    std::unique_lock lock(mutex_);
    if (!files_registered_) return err(ENXIO);
    old.swap(files_);
    files_registered_ = false;
    return {};
}

Result<void> Registrations::register_eventfd(kernel::Process& p, int fd) {
    kernel::FileRef f = TOYOS_TRY(p.fds().get(fd));
    if (f->kind() != kernel::FileKind::EventFd) return err(EINVAL);
    std::unique_lock lock(mutex_);
    if (eventfd_) return err(EBUSY);
    eventfd_ = std::move(f);
    has_eventfd_.store(true, std::memory_order_release);
    return {};
}

Result<void> Registrations::unregister_eventfd() {
    kernel::FileRef old;
    std::unique_lock lock(mutex_);
    if (!eventfd_) return err(ENXIO);
    old = std::move(eventfd_);
    has_eventfd_.store(false, std::memory_order_release);
    return {};
}

Result<kernel::MappingRef> Registrations::fixed_buffer(uint32_t index, uintptr_t addr,
                                                       size_t len) const {
    std::shared_lock lock(mutex_);
    if (index >= buffers_.size()) return err(EFAULT);
    const RegisteredBuffer& b = buffers_[index];
    if (b.addr == 0) return err(EFAULT);
    if (addr < b.addr || addr > b.addr + b.len || len > b.addr + b.len - addr) return err(EFAULT);
    return b.pin;
}

Result<kernel::FileRef> Registrations::fixed_file(uint32_t index) const {
    std::shared_lock lock(mutex_);
    if (index >= files_.size() || !files_[index]) return err(EBADF);
    return files_[index];
}

void Registrations::signal_eventfd() const {
    std::shared_lock lock(mutex_);
    if (!eventfd_) return;
    uint64_t one = 1;
    (void)!::write(eventfd_->host_fd(), &one, sizeof(one));
}

std::vector<iovec> Registrations::buffer_iovecs() const {
    std::shared_lock lock(mutex_);
    std::vector<iovec> out;
    out.reserve(buffers_.size());
    for (const auto& b : buffers_) out.push_back(iovec{reinterpret_cast<void*>(b.addr), b.len});
    return out;
}

std::vector<int> Registrations::file_host_fds() const {
    std::shared_lock lock(mutex_);
    std::vector<int> out;
    out.reserve(files_.size());
    for (const auto& f : files_) out.push_back(f ? f->host_fd() : -1);
    return out;
}

uint32_t Registrations::buffer_count() const {
    std::shared_lock lock(mutex_);
    return static_cast<uint32_t>(buffers_.size());
}

uint32_t Registrations::file_count() const {
    std::shared_lock lock(mutex_);
    return static_cast<uint32_t>(files_.size());
}

size_t Registrations::buffer_bytes() const {
    std::shared_lock lock(mutex_);
    size_t n = 0;
    for (const auto& b : buffers_) n += b.len;
    return n;
}

void Registrations::clear() {
    std::vector<RegisteredBuffer> b;
    std::vector<kernel::FileRef> f;
    kernel::FileRef e;
    std::unique_lock lock(mutex_);
    b.swap(buffers_);
    uncharge_buffers_locked();
    f.swap(files_);
    files_registered_ = false;
    e = std::move(eventfd_);
    has_eventfd_.store(false, std::memory_order_release);
}

}  // namespace toyos::iouring
