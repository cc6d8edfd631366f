#include "iouring/host_features.h"

#include <liburing.h>

namespace toyos::iouring {
namespace {

bool can_create(unsigned flags) {
    struct io_uring ring;
    io_uring_params p{};
    p.flags = flags;
    if (io_uring_queue_init_params(4, &ring, &p) < 0) return false;
    io_uring_queue_exit(&ring);
    return true;
}

}  // namespace

HostFeatures HostFeatures::probe() {
    HostFeatures f;
    struct io_uring ring;
    if (io_uring_queue_init(4, &ring, 0) < 0) return f;
    f.available = true;
    if (io_uring_probe* p = io_uring_get_probe_ring(&ring)) {
        for (int op = 0; op <= p->last_op && op < 256; ++op)
            f.ops[op] = io_uring_opcode_supported(p, op) != 0;
        io_uring_free_probe(p);
    }
    f.sparse_buffers = io_uring_register_buffers_sparse(&ring, 1) == 0;
    f.sparse_files = io_uring_register_files_sparse(&ring, 1) == 0;
    io_uring_queue_exit(&ring);
    f.single_issuer = can_create(IORING_SETUP_SINGLE_ISSUER);
    f.defer_taskrun = can_create(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    f.coop_taskrun = can_create(IORING_SETUP_COOP_TASKRUN);
    f.sqpoll = can_create(IORING_SETUP_SQPOLL);
    f.iopoll = can_create(IORING_SETUP_IOPOLL);
    f.passthrough =
        can_create(IORING_SETUP_SQE128 | IORING_SETUP_CQE32) && f.ops[IORING_OP_URING_CMD];
    return f;
}

std::string HostFeatures::describe() const {
    std::string s;
    auto add = [&](const char* name, bool on) {
        if (!s.empty()) s += ' ';
        s += name;
        s += on ? "=yes" : "=no";
    };
    add("io_uring", available);
    add("single_issuer", single_issuer);
    add("defer_taskrun", defer_taskrun);
    add("coop_taskrun", coop_taskrun);
    add("sqpoll", sqpoll);
    add("iopoll", iopoll);
    add("fixed_buffers", sparse_buffers);
    add("fixed_files", sparse_files);
    add("passthrough", passthrough);
    return s;
}

}  // namespace toyos::iouring
