// RingFile: what a ring fd refers to. Mapping it at IORING_OFF_SQ_RING / _CQ_RING / _SQES
// gives the process the ring's shared memory; closing the last reference shuts the ring down.
#pragma once

#include <memory>

#include "iouring/ring.h"
#include "kernel/file.h"

namespace toyos::iouring {

class RingFile final : public kernel::File {
  public:
    explicit RingFile(std::shared_ptr<SyscallCompletionRing> ring) : ring_(std::move(ring)) {}
    ~RingFile() override;

    kernel::FileKind kind() const override { return kernel::FileKind::Ring; }
    std::string describe() const override { return "anon_inode:[io_uring]"; }
    kernel::Result<kernel::Region> mmap(kernel::Process& proc, size_t length, uint64_t offset,
                                        int prot) override;
    const std::shared_ptr<SyscallCompletionRing>& ring() const { return ring_; }

  private:
    std::shared_ptr<SyscallCompletionRing> ring_;
};

}  // namespace toyos::iouring
