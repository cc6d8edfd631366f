#include "iouring/ops/nop.h"

namespace toyos::iouring::nop {

// Linux 6.18's NOP takes flags (IORING_NOP_INJECT_RESULT, ...) that toyos does not have yet;
// like toyos before them, every other field is ignored.
int prep(const PrepContext&, Request&, const io_uring_sqe&) {
    return 0;
}

}  // namespace toyos::iouring::nop
