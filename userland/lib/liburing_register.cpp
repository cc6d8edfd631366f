// toyos liburing: io_uring_register wrappers and the probe.
#include "toyos/liburing.h"

namespace toyos {

int io_uring_register_buffers(io_uring* ring, const iovec* iovecs, unsigned nr_iovecs) {
    return sys::io_uring_register(ring->ring_fd, IORING_REGISTER_BUFFERS, iovecs, nr_iovecs);
}
int io_uring_unregister_buffers(io_uring* ring) {
    return sys::io_uring_register(ring->ring_fd, IORING_UNREGISTER_BUFFERS, nullptr, 0);
}
int io_uring_register_files(io_uring* ring, const int* files, unsigned nr_files) {
    return sys::io_uring_register(ring->ring_fd, IORING_REGISTER_FILES, files, nr_files);
}
int io_uring_unregister_files(io_uring* ring) {
    return sys::io_uring_register(ring->ring_fd, IORING_UNREGISTER_FILES, nullptr, 0);
}
int io_uring_register_files_update(io_uring* ring, unsigned off, const int* files,
                                   unsigned nr_files) {
    io_uring_files_update up{};
    up.offset = off;
    up.fds = reinterpret_cast<uint64_t>(files);
    return sys::io_uring_register(ring->ring_fd, IORING_REGISTER_FILES_UPDATE, &up, nr_files);
}
int io_uring_register_eventfd(io_uring* ring, int fd) {
    return sys::io_uring_register(ring->ring_fd, IORING_REGISTER_EVENTFD, &fd, 1);
}
int io_uring_unregister_eventfd(io_uring* ring) {
    return sys::io_uring_register(ring->ring_fd, IORING_UNREGISTER_EVENTFD, nullptr, 0);
}
int io_uring_enable_rings(io_uring* ring) {
    return sys::io_uring_register(ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
}

namespace {
constexpr size_t kProbeBytes =
    sizeof(io_uring_probe) + TOYOS_IORING_PROBE_OPS * sizeof(io_uring_probe_op);
}

io_uring_probe* io_uring_get_probe_ring(io_uring* ring) {
    void* mem =
        sys::mmap(nullptr, kProbeBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    auto* probe = static_cast<io_uring_probe*>(mem);
    if (sys::io_uring_register(ring->ring_fd, IORING_REGISTER_PROBE, probe,
                               TOYOS_IORING_PROBE_OPS) < 0) {
        sys::munmap(mem, kProbeBytes);
        return nullptr;
    }
    return probe;
}

io_uring_probe* io_uring_get_probe() {
    io_uring ring;
    if (io_uring_queue_init(2, &ring, 0) < 0) return nullptr;
    io_uring_probe* probe = io_uring_get_probe_ring(&ring);
    io_uring_queue_exit(&ring);
    return probe;
}

void io_uring_free_probe(io_uring_probe* probe) {
    if (probe != nullptr) sys::munmap(probe, kProbeBytes);
}

}  // namespace toyos
