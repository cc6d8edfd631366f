#include "iouring/ops/op_support.h"

#include <sys/uio.h>

#include "iouring/request.h"

namespace toyos::iouring {

void pin_data(Request& req, const kernel::AddressSpace& mem, uint64_t addr, size_t len,
              kernel::Access acc) {
    auto buf = mem.access(addr, len, acc);
    if (buf.is_error()) {
        if (req.issue_error == 0) req.issue_error = -buf.error();
        return;
    }
    if (buf->pin) req.pins.push_back(std::move(buf->pin));
}

int copy_iovecs(Request& req, const kernel::AddressSpace& mem, uint64_t user_iov, uint32_t count,
                kernel::Access acc) {
    if (count > kUioMaxIov) return -EINVAL;
    iovec* dst = req.inline_iov;
    if (count > sizeof(req.inline_iov) / sizeof(req.inline_iov[0])) {
        req.heap_iov.resize(count);
        dst = req.heap_iov.data();
    }
    if (count > 0) {
        auto c = mem.copy_from_user(dst, kernel::UserPtr<iovec>(user_iov), count);
        if (c.is_error()) return -c.error();
    }
    for (uint32_t i = 0; i < count; ++i)
        pin_data(req, mem, reinterpret_cast<uintptr_t>(dst[i].iov_base), dst[i].iov_len, acc);
    req.iov = dst;
    req.iovcnt = count;
    return 0;
}

int pin_user(Request& req, const kernel::AddressSpace& mem, uint64_t addr, size_t len,
             kernel::Access acc) {
    auto buf = mem.access(addr, len, acc);
    if (buf.is_error()) return -buf.error();
    if (buf->pin) req.pins.push_back(std::move(buf->pin));
    req.addr = buf->data;
    req.len = static_cast<uint32_t>(len);
    return 0;
}

}  // namespace toyos::iouring
