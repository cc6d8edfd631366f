// cat [FILE...]: concatenate files to standard output through the ring. While one chunk is
// being written, the READ of the next chunk is already in flight (two buffers).
#include "toyos/io.h"
#include "toyos/liburing.h"
#include "toyos/program.h"

namespace {

using namespace toyos;

constexpr unsigned kChunk = 64 * 1024;
constexpr uint64_t kRead = 1, kWrite = 2;
char g_bufs[2][kChunk];  // image memory: the kernel accepts it

void queue(io_uring* ring, uint64_t tag, int op_fd, char* buf, unsigned len) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (tag == kRead)
        io_uring_prep_read(sqe, op_fd, buf, len, UINT64_MAX);  // file position
    else
        io_uring_prep_write(sqe, op_fd, buf, len, UINT64_MAX);
    io_uring_sqe_set_data64(sqe, tag);
}

int reap(io_uring* ring, uint64_t* tag) {
    io_uring_cqe* cqe;
    if (int r = io_uring_wait_cqe(ring, &cqe); r < 0) return r;
    *tag = cqe->user_data;
    const int res = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    return res;
}

int cat_fd(io_uring* ring, int fd, const char* name) {
    unsigned cur = 0;
    queue(ring, kRead, fd, g_bufs[cur], kChunk);
    io_uring_submit(ring);
    uint64_t tag = 0;
    int n = reap(ring, &tag);  // the first chunk
    for (;;) {
        if (n < 0) {
            io::printf(2, "cat: %s: %s\n", name, io::error_text(n));
            return 1;
        }
        if (n == 0) return 0;
        queue(ring, kRead, fd, g_bufs[cur ^ 1], kChunk);  // the next chunk, meanwhile
        bool next_ready = false;
        int next_n = 0;
        for (unsigned done = 0; done < static_cast<unsigned>(n);) {
            queue(ring, kWrite, 1, g_bufs[cur] + done, static_cast<unsigned>(n) - done);
            io_uring_submit(ring);
            for (;;) {
                const int r = reap(ring, &tag);
                if (tag == kRead) {
                    next_ready = true;
                    next_n = r;
                    continue;
                }
                if (r <= 0) {
                    io::printf(2, "cat: write: %s\n", io::error_text(r < 0 ? r : -EIO));
                    return 1;
                }
                done += static_cast<unsigned>(r);
                break;
            }
        }
        cur ^= 1;
        n = next_ready ? next_n : reap(ring, &tag);
    }
}

}  // namespace

TOYOS_PROGRAM(cat, "cat", "cat [FILE...]: concatenate files to standard output (via the ring)") {
    if (argc == 2 && argv[1][0] == '-' && argv[1][1] == '-') {
        io::puts(1,
                 "usage: cat [FILE...]\n  reads with IORING_OP_READ, writes with "
                 "IORING_OP_WRITE; '-' or no FILE reads standard input\n");
        return 0;
    }
    io_uring ring;
    if (int r = io_uring_queue_init(4, &ring, 0); r < 0) {
        io::printf(2, "cat: io_uring: %s\n", io::error_text(r));
        return 1;
    }
    int status = 0;
    if (argc < 2) status = cat_fd(&ring, 0, "-");
    for (int i = 1; i < argc; ++i) {
        if (argv[i][0] == '-' && argv[i][1] == '\0') {
            status |= cat_fd(&ring, 0, "-");
            continue;
        }
        // The open goes through the ring too.
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_openat(sqe, AT_FDCWD, argv[i], O_RDONLY, 0);
        io_uring_submit(&ring);
        uint64_t tag;
        const int fd = reap(&ring, &tag);
        if (fd < 0) {
            io::printf(2, "cat: %s: %s\n", argv[i], io::error_text(fd));
            status = 1;
            continue;
        }
        status |= cat_fd(&ring, fd, argv[i]);
        sys::close(fd);
    }
    io_uring_queue_exit(&ring);
    return status;
}
