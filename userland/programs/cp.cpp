// cp SRC DST: copy a file through the ring, with registered buffers and several reads in
// flight. Each buffer cycles READ_FIXED -> WRITE_FIXED at its own offset.
#include "toyos/io.h"
#include "toyos/liburing.h"
#include "toyos/program.h"

namespace {

using namespace toyos;

constexpr unsigned kDepth = 4;
constexpr unsigned kChunk = 128 * 1024;

struct Slot {
    uint64_t offset = 0;  // where this buffer's chunk lives in the file
    unsigned want = 0;    // bytes still to read or write for the chunk
    unsigned done = 0;    // bytes of the chunk already moved in this phase
    bool writing = false;
    bool busy = false;
};

int fail(const char* what, const char* name, long err) {
    io::printf(2, "cp: %s%s%s: %s\n", what, name[0] ? " " : "", name, io::error_text(err));
    return 1;
}

}  // namespace

TOYOS_PROGRAM(cp, "cp", "cp SRC DST: copy a file through the ring (registered buffers)") {
    if (argc == 2 && argv[1][0] == '-' && argv[1][1] == '-') {
        io::puts(1,
                 "usage: cp SRC DST\n  copies SRC to DST with io_uring reads and writes, "
                 "4 registered 128 KiB buffers in flight\n");
        return 0;
    }
    if (argc != 3) {
        io::puts(2, "usage: cp SRC DST\n");
        return 2;
    }
    const int in = sys::open(argv[1], O_RDONLY);
    if (in < 0) return fail("cannot open", argv[1], in);
    struct stat st {};
    if (int r = sys::fstat(in, &st); r < 0) return fail("cannot stat", argv[1], r);
    if (S_ISDIR(st.st_mode)) return fail("cannot copy", argv[1], -EISDIR);
    const int out = sys::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 0777);
    if (out < 0) return fail("cannot create", argv[2], out);

    io_uring ring;
    if (int r = io_uring_queue_init(2 * kDepth, &ring, 0); r < 0) return fail("io_uring", "", r);
    void* mem = sys::mmap(nullptr, kDepth * kChunk, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return fail("mmap", "", -sys::last_mmap_error());
    auto* bufs = static_cast<char*>(mem);
    iovec iov[kDepth];
    for (unsigned i = 0; i < kDepth; ++i) iov[i] = {bufs + i * kChunk, kChunk};
    if (int r = io_uring_register_buffers(&ring, iov, kDepth); r < 0)
        return fail("register buffers", "", r);

    const uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t next_offset = 0;
    Slot slots[kDepth];
    unsigned inflight = 0;
    auto queue = [&](unsigned i) {
        Slot& s = slots[i];
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        char* base = bufs + i * kChunk;
        if (s.writing)
            io_uring_prep_write_fixed(sqe, out, base + s.done, s.want - s.done, s.offset + s.done,
                                      static_cast<int>(i));
        else
            io_uring_prep_read_fixed(sqe, in, base + s.done, s.want - s.done, s.offset + s.done,
                                     static_cast<int>(i));
        io_uring_sqe_set_data64(sqe, i);
        s.busy = true;
        ++inflight;
    };
    auto start_chunk = [&](unsigned i) -> bool {
        if (next_offset >= size) return false;
        Slot& s = slots[i];
        s.offset = next_offset;
        s.want = static_cast<unsigned>(size - next_offset < kChunk ? size - next_offset : kChunk);
        s.done = 0;
        s.writing = false;
        next_offset += s.want;
        queue(i);
        return true;
    };
    for (unsigned i = 0; i < kDepth; ++i) start_chunk(i);
    int status = 0;
    while (inflight > 0) {
        if (int r = io_uring_submit_and_wait(&ring, 1); r < 0 && r != -EBUSY) {
            status = fail("submit", "", r);
            break;
        }
        io_uring_cqe* cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            ++seen;
            --inflight;
            const unsigned i = static_cast<unsigned>(cqe->user_data);
            Slot& s = slots[i];
            s.busy = false;
            if (cqe->res < 0) {
                status =
                    fail(s.writing ? "write" : "read", s.writing ? argv[2] : argv[1], cqe->res);
                continue;
            }
            if (cqe->res == 0 && !s.writing) {  // the file shrank under us: stop here
                s.want = s.done;
            } else {
                s.done += static_cast<unsigned>(cqe->res);
            }
            if (status != 0) continue;
            if (s.done < s.want) {
                queue(i);  // a short transfer: finish the chunk
            } else if (!s.writing) {
                s.writing = true;
                s.done = 0;
                if (s.want > 0)
                    queue(i);
                else
                    start_chunk(i);
            } else {
                start_chunk(i);
            }
        }
        io_uring_cq_advance(&ring, seen);
    }
    io_uring_unregister_buffers(&ring);
    io_uring_queue_exit(&ring);
    sys::munmap(mem, kDepth * kChunk);
    sys::close(in);
    if (int r = sys::close(out); r < 0 && status == 0) status = fail("close", argv[2], r);
    return status;
}
