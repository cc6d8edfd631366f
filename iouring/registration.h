// Registrations: a ring's registered buffers, files and eventfd (io_uring_register(2)).
// Registered buffers are pinned user memory, checked once at registration; READ_FIXED and
// WRITE_FIXED only check that the range lies inside one.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <vector>

#include "kernel/address_space.h"
#include "kernel/file.h"
#include "kernel/resource_limits.h"

namespace toyos::kernel {
class Process;
}

namespace toyos::iouring {

struct RegisteredBuffer {
    uintptr_t addr = 0;
    size_t len = 0;
    kernel::MappingRef pin;
};

class Registrations {
  public:
    static constexpr uint32_t kMaxBuffers = 1u << 14;  // IORING_MAX_REG_BUFFERS
    static constexpr size_t kMaxBufferLen = size_t{1} << 30;
    static constexpr uint32_t kMaxFiles = 1u << 15;

    kernel::Result<void> register_buffers(kernel::Process& p, uint64_t iovecs, uint32_t n);
    kernel::Result<void> unregister_buffers();
    kernel::Result<void> register_files(kernel::Process& p, uint64_t fds, uint32_t n);
    kernel::Result<long> update_files(kernel::Process& p, uint32_t offset, uint64_t fds,
                                      uint32_t n);
    kernel::Result<void> unregister_files();
    kernel::Result<void> register_eventfd(kernel::Process& p, int fd);
    kernel::Result<void> unregister_eventfd();

    // The buffer covering [addr, addr+len) in slot `index`, or EFAULT/EINVAL.
    kernel::Result<kernel::MappingRef> fixed_buffer(uint32_t index, uintptr_t addr,
                                                    size_t len) const;
    kernel::Result<kernel::FileRef> fixed_file(uint32_t index) const;  // EBADF
    void signal_eventfd() const;
    bool has_eventfd() const { return has_eventfd_.load(std::memory_order_acquire); }

    // Snapshots for an executor that mirrors them on the host.
    std::vector<iovec> buffer_iovecs() const;
    std::vector<int> file_host_fds() const;  // -1 for empty slots

    uint32_t buffer_count() const;
    uint32_t file_count() const;
    size_t buffer_bytes() const;
    void clear();

  private:
    void uncharge_buffers_locked();

    mutable std::shared_mutex mutex_;
    std::vector<RegisteredBuffer> buffers_;
    // The process usage the buffers are charged to (ResourceLimits::max_registered_bytes).
    std::shared_ptr<kernel::ResourceUsage> charged_to_;
    uint64_t charged_bytes_ = 0;
    std::vector<kernel::FileRef> files_;
    bool files_registered_ = false;
    kernel::FileRef eventfd_;
    std::atomic<bool> has_eventfd_{false};
};

}  // namespace toyos::iouring
