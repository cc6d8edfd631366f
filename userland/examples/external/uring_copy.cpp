// A liburing-style program ported to toyos: the include, `using namespace toyos;`, and fds
// and memory from toyos::sys. Copies SRC to DST with linked READ -> WRITE pairs.
#include <toyos/io.h>
#include <toyos/liburing.h>

using namespace toyos;

extern "C" int toyos_main(int argc, char** argv) {
    if (argc != 3) {
        io::puts(2, "usage: uring_ext SRC DST\n");
        return 2;
    }
    const int in = sys::open(argv[1], O_RDONLY);
    const int out = sys::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) return 1;
    struct io_uring ring;
    if (io_uring_queue_init(8, &ring, 0) < 0) return 1;
    static char buf[4096];  // the program's own memory
    struct stat st;
    sys::fstat(in, &st);
    for (off_t off = 0; off < st.st_size; off += sizeof(buf)) {
        const unsigned len = static_cast<unsigned>(
            st.st_size - off < static_cast<off_t>(sizeof(buf)) ? st.st_size - off : sizeof(buf));
        struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_read(sqe, in, buf, len, static_cast<uint64_t>(off));
        io_uring_sqe_set_flags(sqe, IOSQE_IO_LINK);
        sqe = io_uring_get_sqe(&ring);
        io_uring_prep_write(sqe, out, buf, len, static_cast<uint64_t>(off));
        io_uring_submit_and_wait(&ring, 2);
        for (int i = 0; i < 2; ++i) {
            struct io_uring_cqe* cqe;
            io_uring_wait_cqe(&ring, &cqe);
            if (cqe->res != static_cast<int>(len)) {
                io::printf(2, "uring_ext: short or failed op: %d\n", cqe->res);
                return 1;
            }
            io_uring_cqe_seen(&ring, cqe);
        }
    }
    io_uring_queue_exit(&ring);
    io::printf(1, "copied %lld bytes with io_uring\n", static_cast<long long>(st.st_size));
    return 0;
}
