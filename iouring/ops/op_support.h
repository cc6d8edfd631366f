// What several operation families share: the data-buffer checks of prep and the errno of a
// host call.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "kernel/address_space.h"

namespace toyos::iouring {

struct Request;

// Linux's UIO_MAXIOV.
inline constexpr uint32_t kUioMaxIov = 1024;

// A data buffer: checked (the host only ever sees checked memory) and pinned for the request.
// A buffer that fails is, as on Linux, the operation's fault when it runs: the SQE is
// consumed and its issue completes it with the error (req.issue_error), breaking its chain.
void pin_data(Request& req, const kernel::AddressSpace& mem, uint64_t addr, size_t len,
              kernel::Access acc);
// An iovec array: copied into the request at prep, as Linux imports it (-EFAULT, -EINVAL
// for more than kUioMaxIov), each buffer then checked as pin_data does.
int copy_iovecs(Request& req, const kernel::AddressSpace& mem, uint64_t user_iov, uint32_t count,
                kernel::Access acc);
// [addr, addr+len) must be the submitter's memory with `acc` now (0 or -errno); pinned, and
// the checked address put in req.addr.
int pin_user(Request& req, const kernel::AddressSpace& mem, uint64_t addr, size_t len,
             kernel::Access acc);

// A host call's result as an io_uring result: the value, or -errno.
inline int64_t host_result(long r) {
    return r < 0 ? -errno : r;
}

}  // namespace toyos::iouring
