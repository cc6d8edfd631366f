// The liburing functions the scenarios call. Each backend forwards these names to its own
// liburing (the host's <liburing.h> or <toyos/liburing.h>), so a scenario template written
// once as `B::io_uring_prep_read(...)` runs on both; the two headers never meet in one
// translation unit.
#pragma once

#include <utility>

#define TOYOS_DIFF_LIBURING_API(X)    \
    X(io_uring_get_sqe)               \
    X(io_uring_submit)                \
    X(io_uring_submit_and_wait)       \
    X(io_uring_wait_cqe_timeout)      \
    X(io_uring_peek_cqe)              \
    X(io_uring_cqe_seen)              \
    X(io_uring_cq_ready)              \
    X(io_uring_register_buffers)      \
    X(io_uring_unregister_buffers)    \
    X(io_uring_register_files)        \
    X(io_uring_unregister_files)      \
    X(io_uring_register_files_update) \
    X(io_uring_get_probe_ring)        \
    X(io_uring_queue_init_params)     \
    X(io_uring_queue_exit)            \
    X(io_uring_opcode_supported)      \
    X(io_uring_free_probe)            \
    X(io_uring_prep_nop)              \
    X(io_uring_prep_read)             \
    X(io_uring_prep_write)            \
    X(io_uring_prep_readv)            \
    X(io_uring_prep_writev)           \
    X(io_uring_prep_read_fixed)       \
    X(io_uring_prep_write_fixed)      \
    X(io_uring_prep_openat)           \
    X(io_uring_prep_close)            \
    X(io_uring_prep_fsync)            \
    X(io_uring_prep_send)             \
    X(io_uring_prep_recv)             \
    X(io_uring_prep_sendmsg)          \
    X(io_uring_prep_recvmsg)          \
    X(io_uring_prep_accept)           \
    X(io_uring_prep_connect)          \
    X(io_uring_prep_timeout)          \
    X(io_uring_prep_link_timeout)     \
    X(io_uring_prep_cancel64)         \
    X(io_uring_prep_poll_add)         \
    X(io_uring_prep_poll_remove)      \
    X(io_uring_prep_shutdown)         \
    X(io_uring_prep_statx)

// Inside a backend class: a static member `name` that calls `ns::name`.
#define TOYOS_DIFF_FORWARD(ns, name)                  \
    template <class... Args>                          \
    static decltype(auto) name(Args&&... args) {      \
        return ns::name(std::forward<Args>(args)...); \
    }
