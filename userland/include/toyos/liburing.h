// <toyos/liburing.h>: liburing's API on toyos rings.
//
// Same names, arguments and semantics as liburing (2.x), in namespace toyos, over the toy
// syscalls io_uring_setup/enter/register. Porting a liburing program: include this header
// instead of <liburing.h>, add `using namespace toyos;`, and take fds and memory from
// toyos::sys (the kernel accepts only the program's own memory: stack, sys::mmap, globals).
//
// Preparing SQEs never enters the kernel; io_uring_submit() is one io_uring_enter for the
// whole batch (seed 000). The kernel fills the SQ index array with the identity once at
// setup, so submitting only publishes the tail (seed 003): O(1) per batch.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "toyos/abi/io_uring.h"
#include "toyos/sys.h"

namespace toyos {

struct io_uring_sq {
    unsigned* khead;
    unsigned* ktail;
    unsigned* kflags;
    unsigned* kdropped;
    unsigned* array;
    struct io_uring_sqe* sqes;
    unsigned sqe_head;
    unsigned sqe_tail;
    size_t ring_sz;
    void* ring_ptr;
    unsigned ring_mask;
    unsigned ring_entries;
};

struct io_uring_cq {
    unsigned* khead;
    unsigned* ktail;
    unsigned* kflags;
    unsigned* koverflow;
    struct io_uring_cqe* cqes;
    size_t ring_sz;
    void* ring_ptr;
    unsigned ring_mask;
    unsigned ring_entries;
};

struct io_uring {
    io_uring_sq sq;
    io_uring_cq cq;
    unsigned flags;
    int ring_fd;
    unsigned features;
};

// --- setup, submission, completion (userland/lib/liburing_*.cpp) ----------------------------
int io_uring_queue_init(unsigned entries, io_uring* ring, unsigned flags);
int io_uring_queue_init_params(unsigned entries, io_uring* ring, io_uring_params* p);
// Maps the rings of an io_uring fd set up elsewhere (`p` as io_uring_setup filled it): another
// view of the same ring, as liburing's io_uring_queue_mmap. 0 or -errno; `fd` stays open.
int io_uring_queue_mmap(int fd, io_uring_params* p, io_uring* ring);
void io_uring_queue_exit(io_uring* ring);
int io_uring_submit(io_uring* ring);
int io_uring_submit_and_wait(io_uring* ring, unsigned wait_nr);
int io_uring_wait_cqe_nr(io_uring* ring, io_uring_cqe** cqe_ptr, unsigned wait_nr);
int io_uring_wait_cqe_timeout(io_uring* ring, io_uring_cqe** cqe_ptr, __kernel_timespec* ts);
int io_uring_peek_cqe(io_uring* ring, io_uring_cqe** cqe_ptr);
unsigned io_uring_peek_batch_cqe(io_uring* ring, io_uring_cqe** cqes, unsigned count);

// --- registration ----------------------------------------------------------------------------
int io_uring_register_buffers(io_uring* ring, const iovec* iovecs, unsigned nr_iovecs);
int io_uring_unregister_buffers(io_uring* ring);
int io_uring_register_files(io_uring* ring, const int* files, unsigned nr_files);
int io_uring_unregister_files(io_uring* ring);
int io_uring_register_files_update(io_uring* ring, unsigned off, const int* files,
                                   unsigned nr_files);
int io_uring_register_eventfd(io_uring* ring, int fd);
int io_uring_unregister_eventfd(io_uring* ring);
// A ring set up with IORING_SETUP_R_DISABLED takes no io_uring_enter until this.
int io_uring_enable_rings(io_uring* ring);
// The probe lives in sys::mmap memory (the kernel writes it); free it with io_uring_free_probe.
io_uring_probe* io_uring_get_probe_ring(io_uring* ring);
io_uring_probe* io_uring_get_probe();
void io_uring_free_probe(io_uring_probe* probe);
inline int io_uring_opcode_supported(const io_uring_probe* p, int op) {
    if (op > p->last_op || op >= p->ops_len) return 0;
    return (p->ops[op].flags & IO_URING_OP_SUPPORTED) != 0;
}

// --- SQ and CQ helpers -------------------------------------------------------------------------
inline unsigned io_uring_load_acquire(const unsigned* p) {
    return std::atomic_ref<const unsigned>(*p).load(std::memory_order_acquire);
}
inline void io_uring_store_release(unsigned* p, unsigned v) {
    std::atomic_ref<unsigned>(*p).store(v, std::memory_order_release);
}

// IORING_SETUP_SQE128 / CQE32 rings have double-size entries: indices shift by one.
inline unsigned io_uring_sqe_shift(const io_uring* ring) {
    return (ring->flags & IORING_SETUP_SQE128) ? 1 : 0;
}
inline unsigned io_uring_cqe_shift(const io_uring* ring) {
    return (ring->flags & IORING_SETUP_CQE32) ? 1 : 0;
}

// The next free SQE, or nullptr when the SQ is full. Writes ring memory only.
inline io_uring_sqe* io_uring_get_sqe(io_uring* ring) {
    io_uring_sq* sq = &ring->sq;
    const unsigned head = io_uring_load_acquire(sq->khead);
    if (sq->sqe_tail - head >= sq->ring_entries) return nullptr;
    io_uring_sqe* sqe = &sq->sqes[(sq->sqe_tail & sq->ring_mask) << io_uring_sqe_shift(ring)];
    sq->sqe_tail++;
    return sqe;
}
inline unsigned io_uring_sq_ready(const io_uring* ring) {
    return ring->sq.sqe_tail - io_uring_load_acquire(ring->sq.khead);
}
inline unsigned io_uring_sq_space_left(const io_uring* ring) {
    return ring->sq.ring_entries - io_uring_sq_ready(ring);
}
inline unsigned io_uring_cq_ready(const io_uring* ring) {
    return io_uring_load_acquire(ring->cq.ktail) - *ring->cq.khead;
}
inline bool io_uring_cq_has_overflow(const io_uring* ring) {
    return (io_uring_load_acquire(ring->sq.kflags) & IORING_SQ_CQ_OVERFLOW) != 0;
}
inline void io_uring_cq_advance(io_uring* ring, unsigned nr) {
    if (nr) io_uring_store_release(ring->cq.khead, *ring->cq.khead + nr);
}
inline void io_uring_cqe_seen(io_uring* ring, io_uring_cqe* cqe) {
    if (cqe) io_uring_cq_advance(ring, 1);
}
inline int io_uring_wait_cqe(io_uring* ring, io_uring_cqe** cqe_ptr) {
    return io_uring_wait_cqe_nr(ring, cqe_ptr, 1);
}

// Iterates over ready CQEs without consuming them; follow with io_uring_cq_advance.
#define io_uring_for_each_cqe(ring, head, cqe)                                \
    for (head = *(ring)->cq.khead;                                            \
         (cqe = (head != ::toyos::io_uring_load_acquire((ring)->cq.ktail)     \
                     ? &(ring)->cq.cqes[(head & (ring)->cq.ring_mask)         \
                                        << ::toyos::io_uring_cqe_shift(ring)] \
                     : nullptr));                                             \
         head++)

inline void io_uring_sqe_set_data(io_uring_sqe* sqe, void* data) {
    sqe->user_data = reinterpret_cast<uint64_t>(data);
}
inline void io_uring_sqe_set_data64(io_uring_sqe* sqe, uint64_t data) {
    sqe->user_data = data;
}
inline void io_uring_sqe_set_flags(io_uring_sqe* sqe, unsigned flags) {
    sqe->flags = static_cast<uint8_t>(flags);
}
inline void* io_uring_cqe_get_data(const io_uring_cqe* cqe) {
    return reinterpret_cast<void*>(cqe->user_data);
}
inline uint64_t io_uring_cqe_get_data64(const io_uring_cqe* cqe) {
    return cqe->user_data;
}

// --- prep helpers: one per operation ------------------------------------------------------------
inline void io_uring_prep_rw(int op, io_uring_sqe* sqe, int fd, const void* addr, unsigned len,
                             uint64_t offset) {
    sqe->opcode = static_cast<uint8_t>(op);
    sqe->flags = 0;
    sqe->ioprio = 0;
    sqe->fd = fd;
    sqe->off = offset;
    sqe->addr = reinterpret_cast<uint64_t>(addr);
    sqe->len = len;
    sqe->rw_flags = 0;
    sqe->buf_index = 0;
    sqe->personality = 0;
    sqe->file_index = 0;
    sqe->addr3 = 0;
    sqe->__pad2[0] = 0;
}
inline void io_uring_prep_nop(io_uring_sqe* sqe) {
    io_uring_prep_rw(IORING_OP_NOP, sqe, -1, nullptr, 0, 0);
}
// A driver command (on an SQE128 ring, the command bytes follow at sqe->cmd); NVMe
// passthrough uses cmd_op NVME_URING_CMD_IO with a struct nvme_uring_cmd there.
inline void io_uring_prep_uring_cmd(io_uring_sqe* sqe, int cmd_op, int fd) {
    io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, nullptr, 0, 0);
    sqe->cmd_op = static_cast<uint32_t>(cmd_op);
}
inline void io_uring_prep_read(io_uring_sqe* sqe, int fd, void* buf, unsigned nbytes,
                               uint64_t offset) {
    io_uring_prep_rw(IORING_OP_READ, sqe, fd, buf, nbytes, offset);
}
inline void io_uring_prep_write(io_uring_sqe* sqe, int fd, const void* buf, unsigned nbytes,
                                uint64_t offset) {
    io_uring_prep_rw(IORING_OP_WRITE, sqe, fd, buf, nbytes, offset);
}
inline void io_uring_prep_readv(io_uring_sqe* sqe, int fd, const iovec* iovecs, unsigned nr_vecs,
                                uint64_t offset) {
    io_uring_prep_rw(IORING_OP_READV, sqe, fd, iovecs, nr_vecs, offset);
}
inline void io_uring_prep_writev(io_uring_sqe* sqe, int fd, const iovec* iovecs, unsigned nr_vecs,
                                 uint64_t offset) {
    io_uring_prep_rw(IORING_OP_WRITEV, sqe, fd, iovecs, nr_vecs, offset);
}
inline void io_uring_prep_read_fixed(io_uring_sqe* sqe, int fd, void* buf, unsigned nbytes,
                                     uint64_t offset, int buf_index) {
    io_uring_prep_rw(IORING_OP_READ_FIXED, sqe, fd, buf, nbytes, offset);
    sqe->buf_index = static_cast<uint16_t>(buf_index);
}
inline void io_uring_prep_write_fixed(io_uring_sqe* sqe, int fd, const void* buf, unsigned nbytes,
                                      uint64_t offset, int buf_index) {
    io_uring_prep_rw(IORING_OP_WRITE_FIXED, sqe, fd, buf, nbytes, offset);
    sqe->buf_index = static_cast<uint16_t>(buf_index);
}
inline void io_uring_prep_openat(io_uring_sqe* sqe, int dfd, const char* path, int flags,
                                 mode_t mode) {
    io_uring_prep_rw(IORING_OP_OPENAT, sqe, dfd, path, mode, 0);
    sqe->open_flags = static_cast<uint32_t>(flags);
}
inline void io_uring_prep_close(io_uring_sqe* sqe, int fd) {
    io_uring_prep_rw(IORING_OP_CLOSE, sqe, fd, nullptr, 0, 0);
}
inline void io_uring_prep_fsync(io_uring_sqe* sqe, int fd, unsigned fsync_flags) {
    io_uring_prep_rw(IORING_OP_FSYNC, sqe, fd, nullptr, 0, 0);
    sqe->fsync_flags = fsync_flags;
}
inline void io_uring_prep_send(io_uring_sqe* sqe, int sockfd, const void* buf, size_t len,
                               int flags) {
    io_uring_prep_rw(IORING_OP_SEND, sqe, sockfd, buf, static_cast<unsigned>(len), 0);
    sqe->msg_flags = static_cast<uint32_t>(flags);
}
inline void io_uring_prep_recv(io_uring_sqe* sqe, int sockfd, void* buf, size_t len, int flags) {
    io_uring_prep_rw(IORING_OP_RECV, sqe, sockfd, buf, static_cast<unsigned>(len), 0);
    sqe->msg_flags = static_cast<uint32_t>(flags);
}
inline void io_uring_prep_sendmsg(io_uring_sqe* sqe, int fd, const msghdr* msg, unsigned flags) {
    io_uring_prep_rw(IORING_OP_SENDMSG, sqe, fd, msg, 1, 0);
    sqe->msg_flags = flags;
}
inline void io_uring_prep_recvmsg(io_uring_sqe* sqe, int fd, msghdr* msg, unsigned flags) {
    io_uring_prep_rw(IORING_OP_RECVMSG, sqe, fd, msg, 1, 0);
    sqe->msg_flags = flags;
}
inline void io_uring_prep_accept(io_uring_sqe* sqe, int fd, sockaddr* addr, socklen_t* addrlen,
                                 int flags) {
    io_uring_prep_rw(IORING_OP_ACCEPT, sqe, fd, addr, 0, reinterpret_cast<uint64_t>(addrlen));
    sqe->accept_flags = static_cast<uint32_t>(flags);
}
inline void io_uring_prep_connect(io_uring_sqe* sqe, int fd, const sockaddr* addr,
                                  socklen_t addrlen) {
    io_uring_prep_rw(IORING_OP_CONNECT, sqe, fd, addr, 0, addrlen);
}
inline void io_uring_prep_statx(io_uring_sqe* sqe, int dfd, const char* path, int flags,
                                unsigned mask, struct statx* statxbuf) {
    io_uring_prep_rw(IORING_OP_STATX, sqe, dfd, path, mask, reinterpret_cast<uint64_t>(statxbuf));
    sqe->statx_flags = static_cast<uint32_t>(flags);
}
inline void io_uring_prep_shutdown(io_uring_sqe* sqe, int fd, int how) {
    io_uring_prep_rw(IORING_OP_SHUTDOWN, sqe, fd, nullptr, static_cast<unsigned>(how), 0);
}
inline void io_uring_prep_timeout(io_uring_sqe* sqe, __kernel_timespec* ts, unsigned count,
                                  unsigned flags) {
    io_uring_prep_rw(IORING_OP_TIMEOUT, sqe, -1, ts, 1, count);
    sqe->timeout_flags = flags;
}
inline void io_uring_prep_link_timeout(io_uring_sqe* sqe, __kernel_timespec* ts, unsigned flags) {
    io_uring_prep_rw(IORING_OP_LINK_TIMEOUT, sqe, -1, ts, 1, 0);
    sqe->timeout_flags = flags;
}
inline void io_uring_prep_cancel64(io_uring_sqe* sqe, uint64_t user_data, int flags) {
    io_uring_prep_rw(IORING_OP_ASYNC_CANCEL, sqe, -1, nullptr, 0, 0);
    sqe->addr = user_data;
    sqe->cancel_flags = static_cast<uint32_t>(flags);
}
inline void io_uring_prep_cancel(io_uring_sqe* sqe, void* user_data, int flags) {
    io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(user_data), flags);
}
inline void io_uring_prep_cancel_fd(io_uring_sqe* sqe, int fd, unsigned flags) {
    io_uring_prep_rw(IORING_OP_ASYNC_CANCEL, sqe, fd, nullptr, 0, 0);
    sqe->cancel_flags = flags | IORING_ASYNC_CANCEL_FD;
}
// res: the ready events within poll_mask (plus POLLERR, POLLHUP, POLLNVAL, POLLRDHUP).
inline void io_uring_prep_poll_add(io_uring_sqe* sqe, int fd, unsigned poll_mask) {
    io_uring_prep_rw(IORING_OP_POLL_ADD, sqe, fd, nullptr, 0, 0);
    sqe->poll32_events = poll_mask;  // little-endian, as the kernel reads it on x86
}
inline void io_uring_prep_poll_remove(io_uring_sqe* sqe, uint64_t user_data) {
    io_uring_prep_rw(IORING_OP_POLL_REMOVE, sqe, -1, nullptr, 0, 0);
    sqe->addr = user_data;
}
// toyos extension (IORING_OP_TOYOS_LSEEK): res is the new offset.
inline void io_uring_prep_lseek(io_uring_sqe* sqe, int fd, int64_t offset, int whence) {
    io_uring_prep_rw(IORING_OP_TOYOS_LSEEK, sqe, fd, nullptr, static_cast<unsigned>(whence),
                     static_cast<uint64_t>(offset));
}

}  // namespace toyos
