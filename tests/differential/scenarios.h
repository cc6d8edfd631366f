// The differential scenarios, each written once over a backend B (see scenario_support.h) and
// run on the host kernel's io_uring and on toyos. A scenario records what the kernel answered
// (CQEs, submit counts, bytes) and never decides what is right: the host is the reference.
// Whatever depends on timing is made deterministic by construction: a recv that must wait
// waits on a socket nobody writes to, a timeout that must not fire is 10 s long.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <cstring>
#include <iterator>

#include "iouring/ops/op_def.h"
#include "scenario_support.h"

namespace toyos::diff {

// --- NOP, bad opcode, unknown SQE flags ------------------------------------------------------
template <class B>
Outcome scenario_nop(B& b) {
    Outcome o;
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 0x1122334455667788ull);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 0);
    submit(b, o, "two nops");
    reap(b, o, "two nops", 2, false);
    expect_cq_empty(b, o, "after the nops");
    return o;
}

template <class B>
Outcome scenario_bad_opcode(B& b) {
    Outcome o;
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    s->opcode = 199;  // past IORING_OP_LAST, and not a toyos opcode either
    tag(s, 1);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 2);
    // A failed SQE stops the submission: the NOP stays in the SQ for the next submit.
    submit(b, o, "bad opcode, nop");
    reap(b, o, "bad opcode", 1, true);
    expect_cq_empty(b, o, "after the bad opcode");
    submit(b, o, "the nop left behind");
    reap(b, o, "the nop left behind", 1, true);
    return o;
}

template <class B>
Outcome scenario_unknown_sqe_flags(B& b) {
    Outcome o;
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 1, 1u << 7);  // no such IOSQE_ bit
    submit(b, o, "nop with flag bit 7");
    reap(b, o, "nop with flag bit 7", 1, true);
    return o;
}

// --- links -----------------------------------------------------------------------------------
template <class B>
Outcome scenario_link_broken_by_bad_fd(B& b) {
    Outcome o;
    char buf[16];
    // The middle of a chain fails at issue: the head succeeded, the rest is cancelled.
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 1, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, kBadFd, buf, sizeof(buf), 0);
    tag(s, 2, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 3);
    submit(b, o, "nop -> read(bad fd) -> nop");
    reap(b, o, "nop -> read(bad fd) -> nop", 3, true);
    // The head fails.
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, kBadFd, buf, sizeof(buf), 0);
    tag(s, 4, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 5, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 6);
    submit(b, o, "read(bad fd) -> nop -> nop");
    reap(b, o, "read(bad fd) -> nop -> nop", 3, true);
    expect_cq_empty(b, o, "after the chains");
    return o;
}

// An SQE that fails validation inside a chain: Linux keeps assembling the chain while the
// failing SQE is itself linked, then fails all of it; submission stops only after an SQE
// that fails without a link flag.
template <class B>
Outcome scenario_link_broken_by_prep_error(B& b) {
    Outcome o;
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 1, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    s->opcode = 199;
    tag(s, 2, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 3);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 4);
    submit(b, o, "nop -> bad(linked) -> nop; nop");
    // Linux posts the independent NOP anywhere among the chain's CQEs.
    Step& st = reap(b, o, "the failed chain and the nop after it", 4, false);
    chain_order_fact(o, st, {1, 2, 3});
    expect_cq_empty(b, o, "after the first chain");

    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 5, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    s->opcode = 199;
    tag(s, 6);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 7);
    submit(b, o, "nop -> bad(unlinked); nop");
    reap(b, o, "the chain ended by a bad sqe", 2, true);
    expect_cq_empty(b, o, "after the second chain");
    submit(b, o, "the nop left behind");
    reap(b, o, "the nop left behind", 1, true);
    return o;
}

template <class B>
Outcome scenario_hardlink_survives_failure(B& b) {
    Outcome o;
    char buf[16];
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_read(s, kBadFd, buf, sizeof(buf), 0);
    tag(s, 1, IOSQE_IO_HARDLINK);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 2, IOSQE_IO_HARDLINK);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, kBadFd, buf, sizeof(buf), 0);
    tag(s, 3);
    submit(b, o, "hard chain of read(bad fd) -> nop -> read(bad fd)");
    reap(b, o, "the hard chain", 3, true);
    return o;
}

template <class B>
Outcome scenario_link_chain_write_then_read(B& b) {
    Outcome o;
    const int fd = b.create_file("chain.txt", "");
    fact(o, "create chain.txt ok", fd >= 0);
    const char msg[] = "written before read";
    char buf[64] = {};
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_write(s, fd, msg, sizeof(msg) - 1, 0);
    tag(s, 1, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, buf, sizeof(buf), 0);
    tag(s, 2, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_fsync(s, fd, IORING_FSYNC_DATASYNC);
    tag(s, 3);
    submit(b, o, "write -> read -> fsync");
    Step& st = reap(b, o, "write -> read -> fsync", 3, true);
    bytes_fact(o, "read in the chain", buf, res_of(st, 2));
    // A short read (19 of 64 bytes) breaks a chain too.
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, buf, sizeof(buf), 0);
    tag(s, 4, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 5);
    submit(b, o, "short read -> nop");
    reap(b, o, "short read -> nop", 2, true);
    b.close(fd);
    return o;
}

// --- drain, skip, async ------------------------------------------------------------------------
template <class B>
Outcome scenario_drain_waits_for_earlier(B& b) {
    Outcome o;
    int server = -1, client = -1;
    fact(o, "tcp pair", b.tcp_pair(&server, &client));
    char buf[16];
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);  // waits: nobody has written yet
    tag(s, 1);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 2, IOSQE_IO_DRAIN);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 3);
    submit(b, o, "recv, drain nop, nop");
    expect_cq_empty(b, o, "while the recv waits");  // the drain holds both NOPs back
    fact(o, "send", b.send(client, "d", 1));
    reap(b, o, "recv, then the drain, then what came after it", 3, true);
    b.close(server);
    b.close(client);
    return o;
}

template <class B>
Outcome scenario_cqe_skip_success(B& b) {
    Outcome o;
    char buf[16];
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 1, IOSQE_CQE_SKIP_SUCCESS);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, kBadFd, buf, sizeof(buf), 0);  // a failure is still posted
    tag(s, 2, IOSQE_CQE_SKIP_SUCCESS);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 3);
    submit(b, o, "skipped nop, skipped read(bad fd), nop");
    reap(b, o, "only the failure and the plain nop", 2, false);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 4, IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 5);
    submit(b, o, "skipped nop -> nop");
    reap(b, o, "the end of the chain", 1, true);
    // A chain that fails: which of its CQEs are posted. The drained NOP comes after all.
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 6, IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, kBadFd, buf, sizeof(buf), 0);
    tag(s, 7, IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 8, IOSQE_CQE_SKIP_SUCCESS);
    submit(b, o, "skipped nop -> skipped read(bad fd) -> skipped nop");
    // The bad fd fails the chain as it is issued, inside that submit: a NOP submitted next
    // posts after whatever the chain posted.
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 9);
    submit(b, o, "nop");
    reap_until(b, o, "what a failing chain of skipped CQEs posts", 9);
    expect_cq_empty(b, o, "after the skips");
    // A ring that has skipped CQEs refuses IO_DRAIN (its accounting needs every CQE).
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 10, IOSQE_IO_DRAIN);
    submit(b, o, "drain after skips");
    reap(b, o, "drain after skips", 1, true);
    // A short read is a failure: its CQE is posted despite SKIP_SUCCESS. The hard link
    // orders the NOP's CQE after it.
    const int fd = b.create_file("short.txt", "abc");
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, buf, sizeof(buf), 0);
    tag(s, 11, IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 12);
    submit(b, o, "skipped short read => nop");
    reap_until(b, o, "skipped short read => nop", 12);
    b.close(fd);
    return o;
}

template <class B>
Outcome scenario_async_flag(B& b) {
    Outcome o;
    const int fd = b.create_file("async.txt", "punted to a worker");
    char buf[64] = {};
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, buf, sizeof(buf), 0);
    tag(s, 1, IOSQE_ASYNC);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 2, IOSQE_ASYNC);
    submit(b, o, "async read, async nop");
    Step& st = reap(b, o, "async read, async nop", 2, false);
    bytes_fact(o, "async read", buf, res_of(st, 1));
    b.close(fd);
    return o;
}

// --- files -------------------------------------------------------------------------------------
template <class B>
Outcome scenario_read_write(B& b) {
    Outcome o;
    const int fd = b.create_file("rw.txt", "0123456789");
    const int ro = b.open_file("rw.txt", O_RDONLY);
    fact(o, "files open", fd >= 0 && ro >= 0);
    char buf[32] = {};
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_write(s, fd, "AB", 2, 2);
    tag(s, 1);
    submit(b, o, "write at 2");
    reap(b, o, "write at 2", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, ro, buf, sizeof(buf), 0);
    tag(s, 2);
    submit(b, o, "read all");
    Step& st = reap(b, o, "read all", 1, true);
    bytes_fact(o, "read all", buf, res_of(st, 2));
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, buf, sizeof(buf), 100);
    tag(s, 3);  // past the end: 0
    s = next_sqe(b, o);
    B::io_uring_prep_write(s, ro, "x", 1, 0);
    tag(s, 4);  // not open for writing: -EBADF
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, -1, buf, sizeof(buf), 0);
    tag(s, 5);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, b.dir_fd(), buf, sizeof(buf), 0);
    tag(s, 6);  // a directory: -EISDIR
    submit(b, o, "eof, write on O_RDONLY, fd -1, directory");
    reap(b, o, "eof, write on O_RDONLY, fd -1, directory", 4, false);
    o.facts.push_back("file = " + b.file_content("rw.txt"));
    b.close(fd);
    b.close(ro);
    return o;
}

template <class B>
Outcome scenario_readv_writev(B& b) {
    Outcome o;
    const int fd = b.create_file("vec.txt", "");
    char a[] = "scatter ", c[] = "and gather";
    iovec out[2] = {{a, sizeof(a) - 1}, {c, sizeof(c) - 1}};
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_writev(s, fd, out, 2, 0);
    tag(s, 1);
    submit(b, o, "writev");
    reap(b, o, "writev", 1, true);
    char x[4] = {}, y[5] = {}, z[32] = {};
    iovec in[3] = {{x, sizeof(x)}, {y, sizeof(y)}, {z, sizeof(z)}};
    s = next_sqe(b, o);
    B::io_uring_prep_readv(s, fd, in, 3, 0);
    tag(s, 2);
    submit(b, o, "readv");
    reap(b, o, "readv", 1, true);
    bytes_fact(o, "iov 0", x, sizeof(x));
    bytes_fact(o, "iov 1", y, sizeof(y));
    bytes_fact(o, "iov 2", z, static_cast<long>(std::strlen(z)));
    s = next_sqe(b, o);
    B::io_uring_prep_readv(s, fd, in, 3, 1000);
    tag(s, 3);
    s = next_sqe(b, o);
    B::io_uring_prep_writev(s, kBadFd, out, 2, 0);
    tag(s, 4);
    submit(b, o, "readv past the end, writev on a bad fd");
    reap(b, o, "readv past the end, writev on a bad fd", 2, false);
    b.close(fd);
    return o;
}

template <class B>
Outcome scenario_fixed_buffers(B& b) {
    Outcome o;
    const int fd = b.create_file("fixed.txt", "");
    alignas(4096) char area[2][4096];
    std::memset(area, 0, sizeof(area));
    std::memcpy(area[0], "through a registered buffer", 27);
    iovec bufs[2] = {{area[0], sizeof(area[0])}, {area[1], sizeof(area[1])}};
    fact(o, "register_buffers", B::io_uring_register_buffers(&b.ring, bufs, 2));
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_write_fixed(s, fd, area[0], 27, 0, 0);
    tag(s, 1);
    submit(b, o, "write_fixed");
    reap(b, o, "write_fixed", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_read_fixed(s, fd, area[1] + 100, 64, 0, 1);
    tag(s, 2);
    submit(b, o, "read_fixed inside buffer 1");
    Step& st = reap(b, o, "read_fixed inside buffer 1", 1, true);
    bytes_fact(o, "read_fixed", area[1] + 100, res_of(st, 2));
    // Each error on its own: one that fails validation stops the submission.
    s = next_sqe(b, o);
    B::io_uring_prep_read_fixed(s, fd, area[1], 64, 0, 5);
    tag(s, 3);
    submit(b, o, "buf_index 5 of 2");
    reap(b, o, "buf_index 5 of 2", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_read_fixed(s, fd, area[1], 64, 0, 0);
    tag(s, 4);
    submit(b, o, "address outside buffer 0");
    reap(b, o, "address outside buffer 0", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_read_fixed(s, fd, area[1] + 4000, 200, 0, 1);
    tag(s, 5);
    submit(b, o, "range running past buffer 1");
    reap(b, o, "range running past buffer 1", 1, true);
    fact(o, "unregister_buffers", B::io_uring_unregister_buffers(&b.ring));
    fact(o, "unregister_buffers again", B::io_uring_unregister_buffers(&b.ring));
    s = next_sqe(b, o);
    B::io_uring_prep_read_fixed(s, fd, area[0], 64, 0, 0);
    tag(s, 6);
    submit(b, o, "read_fixed with none registered");
    reap(b, o, "read_fixed with none registered", 1, true);
    o.facts.push_back("file = " + b.file_content("fixed.txt"));
    b.close(fd);
    return o;
}

template <class B>
Outcome scenario_fixed_files_and_update(B& b) {
    Outcome o;
    const int fa = b.create_file("a.txt", "file A");
    const int fc = b.create_file("c.txt", "file C");
    char buf[32] = {};
    auto fixed_read = [&](uint64_t user_data, int index, const std::string& what) {
        std::memset(buf, 0, sizeof(buf));
        io_uring_sqe* s = next_sqe(b, o);
        B::io_uring_prep_read(s, index, buf, sizeof(buf), 0);
        tag(s, user_data, IOSQE_FIXED_FILE);
        submit(b, o, what);
        Step& st = reap(b, o, what, 1, true);
        bytes_fact(o, what, buf, res_of(st, user_data));
    };
    fixed_read(1, 0, "fixed read with no table");
    const int files[2] = {fa, -1};
    fact(o, "register_files [a, -1]", B::io_uring_register_files(&b.ring, files, 2));
    fixed_read(2, 0, "fixed read of slot 0");
    fixed_read(3, 1, "fixed read of the empty slot 1");
    fixed_read(4, 9, "fixed read of slot 9 of 2");
    const int c_only[1] = {fc};
    fact(o, "files_update(1, [c])", B::io_uring_register_files_update(&b.ring, 1, c_only, 1));
    fixed_read(5, 1, "fixed read of the updated slot 1");
    fact(o, "files_update(5, [c])", B::io_uring_register_files_update(&b.ring, 5, c_only, 1));
    const int clear[1] = {-1};
    fact(o, "files_update(0, [-1])", B::io_uring_register_files_update(&b.ring, 0, clear, 1));
    fixed_read(6, 0, "fixed read of the cleared slot 0");
    fact(o, "unregister_files", B::io_uring_unregister_files(&b.ring));
    fact(o, "unregister_files again", B::io_uring_unregister_files(&b.ring));
    b.close(fa);
    b.close(fc);
    return o;
}

template <class B>
Outcome scenario_openat_close(B& b) {
    Outcome o;
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_openat(s, b.dir_fd(), "opened.txt", O_CREAT | O_RDWR, 0644);
    tag(s, 1);
    submit(b, o, "openat O_CREAT");
    Step& st = reap(b, o, "openat O_CREAT", 1, true, {1});
    const int fd = res_of(st, 1);
    // The new fd works: write through it, read back through it, close it.
    const char msg[] = "via the opened fd";
    char buf[32] = {};
    s = next_sqe(b, o);
    B::io_uring_prep_write(s, fd, msg, sizeof(msg) - 1, 0);
    tag(s, 2, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, buf, sizeof(buf), 0);
    tag(s, 3, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_close(s, fd);
    tag(s, 4);
    submit(b, o, "write -> read -> close");
    Step& st2 = reap(b, o, "write -> read -> close", 3, true);
    bytes_fact(o, "read through the opened fd", buf, res_of(st2, 3));
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, buf, sizeof(buf), 0);
    tag(s, 5);
    s = next_sqe(b, o);
    B::io_uring_prep_openat(s, b.dir_fd(), "missing.txt", O_RDONLY, 0);
    tag(s, 6);
    s = next_sqe(b, o);
    B::io_uring_prep_close(s, kBadFd);
    tag(s, 7);
    s = next_sqe(b, o);
    B::io_uring_prep_openat(s, b.dir_fd(), "opened.txt", O_CREAT | O_EXCL | O_RDWR, 0644);
    tag(s, 8);
    submit(b, o, "read closed fd, open missing, close bad fd, O_EXCL on existing");
    reap(b, o, "read closed fd, open missing, close bad fd, O_EXCL on existing", 4, false);
    o.facts.push_back("file = " + b.file_content("opened.txt"));
    return o;
}

template <class B>
Outcome scenario_fsync(B& b) {
    Outcome o;
    const int fd = b.create_file("sync.txt", "durable");
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_fsync(s, fd, IORING_FSYNC_DATASYNC);
    tag(s, 1);
    s = next_sqe(b, o);
    B::io_uring_prep_fsync(s, fd, 0);
    tag(s, 2);
    s = next_sqe(b, o);
    B::io_uring_prep_fsync(s, kBadFd, 0);
    tag(s, 3);
    submit(b, o, "fdatasync, fsync, fsync(bad fd)");
    reap(b, o, "fdatasync, fsync, fsync(bad fd)", 3, false);
    s = next_sqe(b, o);
    B::io_uring_prep_fsync(s, fd, 0x8);
    tag(s, 4);
    submit(b, o, "fsync with unknown flags");
    reap(b, o, "fsync with unknown flags", 1, true);
    b.close(fd);
    return o;
}

// --- sockets -------------------------------------------------------------------------------------
template <class B>
Outcome scenario_send_recv(B& b) {
    Outcome o;
    int server = -1, client = -1;
    fact(o, "tcp pair", b.tcp_pair(&server, &client));
    char buf[64] = {};
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
    tag(s, 1);
    s = next_sqe(b, o);
    B::io_uring_prep_send(s, client, "hello", 5, 0);
    tag(s, 2);
    submit(b, o, "recv, send");
    Step& st = reap(b, o, "recv, send", 2, false);
    bytes_fact(o, "recv", buf, res_of(st, 1));
    // A recv that leaves data behind in the socket.
    fact(o, "send 10", b.send(client, "0123456789", 10));
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, 4, 0);
    tag(s, 3);
    submit(b, o, "recv 4 of 10");
    Step& st3 = reap(b, o, "recv 4 of 10", 1, true);
    bytes_fact(o, "recv 4 of 10", buf, res_of(st3, 3));
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
    tag(s, 4);
    submit(b, o, "recv the rest");
    Step& st4 = reap(b, o, "recv the rest", 1, true);
    bytes_fact(o, "recv the rest", buf, res_of(st4, 4));
    const int file = b.create_file("not-a-socket.txt", "x");
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, file, buf, sizeof(buf), 0);
    tag(s, 5);
    s = next_sqe(b, o);
    B::io_uring_prep_send(s, kBadFd, "x", 1, 0);
    tag(s, 6);
    submit(b, o, "recv on a file, send on a bad fd");
    reap(b, o, "recv on a file, send on a bad fd", 2, false);
    b.close(client);  // the peer is gone: recv reads the end of the stream
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
    tag(s, 7);
    submit(b, o, "recv after the peer closed");
    reap(b, o, "recv after the peer closed", 1, true);
    b.close(server);
    b.close(file);
    return o;
}

template <class B>
Outcome scenario_sendmsg_recvmsg(B& b) {
    Outcome o;
    int server = -1, client = -1;
    fact(o, "tcp pair", b.tcp_pair(&server, &client));
    char a[] = "gathered ", c[] = "from two iovecs";
    iovec out[2] = {{a, sizeof(a) - 1}, {c, sizeof(c) - 1}};
    msghdr smsg{};
    smsg.msg_iov = out;
    smsg.msg_iovlen = 2;
    char x[5] = {}, y[32] = {};
    iovec in[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
    msghdr rmsg{};
    rmsg.msg_iov = in;
    rmsg.msg_iovlen = 2;
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_sendmsg(s, client, &smsg, 0);
    tag(s, 1, IOSQE_IO_LINK);  // the recvmsg then finds all of it in the socket
    s = next_sqe(b, o);
    B::io_uring_prep_recvmsg(s, server, &rmsg, 0);
    tag(s, 2);
    submit(b, o, "sendmsg -> recvmsg");
    reap(b, o, "sendmsg -> recvmsg", 2, true);
    bytes_fact(o, "iov 0", x, sizeof(x));
    bytes_fact(o, "iov 1", y, static_cast<long>(std::strlen(y)));
    fact(o, "recvmsg msg_flags", rmsg.msg_flags);
    s = next_sqe(b, o);
    B::io_uring_prep_recvmsg(s, kBadFd, &rmsg, 0);
    tag(s, 3);
    submit(b, o, "recvmsg on a bad fd");
    reap(b, o, "recvmsg on a bad fd", 1, true);
    b.close(server);
    b.close(client);
    return o;
}

template <class B>
Outcome scenario_accept_connect(B& b) {
    Outcome o;
    sockaddr_in addr{};
    const int listener = b.tcp_listener(&addr);
    const int client = b.tcp_socket();
    fact(o, "listener and socket", listener >= 0 && client >= 0);
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_accept(s, listener, nullptr, nullptr, 0);
    tag(s, 1);
    submit(b, o, "accept");
    expect_cq_empty(b, o, "while nobody connects");
    s = next_sqe(b, o);
    B::io_uring_prep_connect(s, client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    tag(s, 2);
    submit(b, o, "connect");
    Step& st = reap(b, o, "accept and connect", 2, false, {1});
    const int conn = res_of(st, 1);
    // The accepted fd is a working socket.
    char buf[32] = {};
    s = next_sqe(b, o);
    B::io_uring_prep_send(s, conn, "accepted", 8, 0);
    tag(s, 3, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, client, buf, sizeof(buf), 0);
    tag(s, 4);
    submit(b, o, "send on the accepted fd -> recv");
    Step& st2 = reap(b, o, "send on the accepted fd -> recv", 2, true);
    bytes_fact(o, "recv from the accepted fd", buf, res_of(st2, 4));
    // ACCEPT that reports the peer's address.
    const int client2 = b.tcp_socket();
    sockaddr_in peer{};
    socklen_t peer_len = sizeof(peer);
    s = next_sqe(b, o);
    B::io_uring_prep_accept(s, listener, reinterpret_cast<sockaddr*>(&peer), &peer_len, 0);
    tag(s, 7);
    s = next_sqe(b, o);
    B::io_uring_prep_connect(s, client2, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    tag(s, 8);
    submit(b, o, "accept with address, connect");
    Step& st3 = reap(b, o, "accept with address, connect", 2, false, {7});
    fact(o, "accepted peer_len", peer_len);
    fact(o, "accepted peer family", peer.sin_family);
    fact(o, "accepted peer is loopback", peer.sin_addr.s_addr == addr.sin_addr.s_addr);
    if (res_of(st3, 7) >= 0) b.close(res_of(st3, 7));
    b.close(client2);
    sockaddr_in refused{};
    const int bound = b.bound_socket(&refused);  // bound, not listening: connect is refused
    fact(o, "bound socket", bound >= 0);
    const int lonely = b.tcp_socket();
    s = next_sqe(b, o);
    B::io_uring_prep_connect(s, lonely, reinterpret_cast<sockaddr*>(&refused), sizeof(refused));
    tag(s, 5);
    const int idle = b.tcp_socket();
    s = next_sqe(b, o);
    B::io_uring_prep_accept(s, idle, nullptr, nullptr, 0);
    tag(s, 6);  // not listening: -EINVAL
    submit(b, o, "connect to a closed port, accept on a non-listener");
    reap(b, o, "connect to a closed port, accept on a non-listener", 2, false);
    b.close(conn);
    b.close(client);
    b.close(listener);
    b.close(lonely);
    b.close(idle);
    b.close(bound);
    return o;
}

// --- timeouts and cancel ----------------------------------------------------------------------
template <class B>
Outcome scenario_timeout_relative_and_count(B& b) {
    Outcome o;
    __kernel_timespec short_ts{0, 20'000'000};
    __kernel_timespec long_ts{10, 0};
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &short_ts, 0, 0);
    tag(s, 1);
    submit(b, o, "20 ms timeout");
    reap(b, o, "20 ms timeout expires", 1, true);
    // Count 2: completes (res 0) once two other completions were posted, long before 10 s.
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &long_ts, 2, 0);
    tag(s, 2);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 3);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 4);
    submit(b, o, "timeout count 2, two nops");
    reap(b, o, "the nops, then the counted timeout", 3, true);
    // Count 5 with one completion: the timer ends it.
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &short_ts, 5, 0);
    tag(s, 5);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 6);
    submit(b, o, "timeout count 5, one nop");
    reap(b, o, "timeout count 5, one nop", 2, false);
    expect_cq_empty(b, o, "after the timeouts");
    return o;
}

template <class B>
Outcome scenario_link_timeout(B& b) {
    Outcome o;
    int server = -1, client = -1;
    fact(o, "tcp pair", b.tcp_pair(&server, &client));
    char buf[16] = {};
    __kernel_timespec short_ts{0, 30'000'000};
    __kernel_timespec long_ts{10, 0};
    // Silent socket: the link timeout fires and cancels the recv.
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
    tag(s, 1, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_link_timeout(s, &short_ts, 0);
    tag(s, 2);
    submit(b, o, "recv on a silent socket + 30 ms link timeout");
    reap(b, o, "recv on a silent socket + 30 ms link timeout", 2, false);
    // Data waits in the socket: the recv wins, the 10 s timeout is cancelled.
    fact(o, "send", b.send(client, "ready", 5));
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
    tag(s, 3, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_link_timeout(s, &long_ts, 0);
    tag(s, 4);
    submit(b, o, "recv with data + 10 s link timeout");
    Step& st = reap(b, o, "recv with data + 10 s link timeout", 2, false);
    bytes_fact(o, "recv", buf, res_of(st, 3));
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 5, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_link_timeout(s, &long_ts, 0);
    tag(s, 6);
    submit(b, o, "nop + 10 s link timeout");
    reap(b, o, "nop + 10 s link timeout", 2, false);
    // A link timeout that is itself linked: when it fires, what follows is cancelled too.
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
    tag(s, 7, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_link_timeout(s, &short_ts, 0);
    tag(s, 8, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 9);
    submit(b, o, "recv on a silent socket + 30 ms link timeout -> nop");
    Step& st3 = reap(b, o, "recv on a silent socket + 30 ms link timeout -> nop", 3, false);
    chain_order_fact(o, st3, {7, 9});
    // A TIMEOUT guarded by a shorter link timeout: the TIMEOUT is cancelled when it fires;
    // Linux posts the link timeout's -ETIME first (the TIMEOUT's -ECANCELED is task work the
    // link timeout queues), every time.
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &long_ts, 0, 0);
    tag(s, 10, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_link_timeout(s, &short_ts, 0);
    tag(s, 11);
    submit(b, o, "10 s timeout + 30 ms link timeout");
    reap(b, o, "10 s timeout + 30 ms link timeout", 2, true);
    b.close(server);
    b.close(client);
    return o;
}

template <class B>
Outcome scenario_async_cancel(B& b) {
    Outcome o;
    int server = -1, client = -1;
    fact(o, "tcp pair", b.tcp_pair(&server, &client));
    char buf[16];
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
    tag(s, 1);
    submit(b, o, "recv on a silent socket");
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 1, 0);
    tag(s, 2);
    submit(b, o, "cancel it");
    reap(b, o, "the recv and its cancel", 2, false);
    // IORING_ASYNC_CANCEL_ALL: every request with that user_data; res is how many.
    for (int i = 0; i < 2; ++i) {
        s = next_sqe(b, o);
        B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
        tag(s, 8);
    }
    submit(b, o, "two recvs with one user_data");
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 8, IORING_ASYNC_CANCEL_ALL);
    tag(s, 9);
    submit(b, o, "cancel all of them");
    reap(b, o, "two recvs and their cancel", 3, false);
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 0xdead, 0);
    tag(s, 3);
    submit(b, o, "cancel unknown user_data");
    reap(b, o, "cancel unknown user_data", 1, true);
    __kernel_timespec long_ts{10, 0};
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &long_ts, 0, 0);
    tag(s, 4);
    submit(b, o, "10 s timeout");
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 4, 0);
    tag(s, 5);
    submit(b, o, "cancel the timeout");
    reap(b, o, "the timeout and its cancel", 2, false);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 6);
    submit(b, o, "nop");
    reap(b, o, "nop", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 6, 0);
    tag(s, 7);
    submit(b, o, "cancel the completed nop");
    reap(b, o, "cancel the completed nop", 1, true);
    // A cancel, then in the same submission the TIMEOUT it names: not submitted yet when the
    // cancel runs (-ENOENT), so the TIMEOUT lives on until a second cancel.
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 10, 0);
    tag(s, 11);
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &long_ts, 0, 0);
    tag(s, 10);
    submit(b, o, "cancel, then the 10 s timeout it names");
    reap(b, o, "cancel, then the 10 s timeout it names", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 10, 0);
    tag(s, 12);
    submit(b, o, "cancel that timeout again");
    reap(b, o, "the timeout and the second cancel", 2, false);
    // A cancel hard-linked behind a RECV, naming a TIMEOUT that a later submission carries
    // right after the RECV's own cancel: Linux runs the linked cancel as task work once that
    // submission is done, so it finds the TIMEOUT (0, and the TIMEOUT -ECANCELED).
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
    tag(s, 13, IOSQE_IO_HARDLINK);
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 14, 0);
    tag(s, 15);
    submit(b, o, "recv on a silent socket => cancel of ud 14");
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 13, 0);
    tag(s, 16);
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &long_ts, 0, 0);
    tag(s, 14);
    submit(b, o, "cancel the recv, then the 10 s timeout ud 14");
    reap(b, o, "recv, both cancels, timeout", 4, false);
    // The same within one submission: a NOP completes at once and lets go the cancel linked
    // behind it, which Linux runs as task work after the submission, the TIMEOUT after it
    // in the SQ armed by then: found.
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 17, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 19, 0);
    tag(s, 18);
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &long_ts, 0, 0);
    tag(s, 19);
    submit(b, o, "nop -> cancel of ud 19, then the 10 s timeout ud 19");
    reap(b, o, "nop, its linked cancel, timeout", 3, false);
    b.close(server);
    b.close(client);
    return o;
}

// --- the ring's own fd as an operand, registration errors ----------------------------------
template <class B>
Outcome scenario_ring_fd_as_operand(B& b) {
    Outcome o;
    char buf[16];
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_read(s, b.ring.ring_fd, buf, sizeof(buf), 0);
    tag(s, 1);
    s = next_sqe(b, o);
    B::io_uring_prep_close(s, b.ring.ring_fd);  // a ring cannot close itself
    tag(s, 2);
    submit(b, o, "read the ring fd, close the ring fd");
    reap(b, o, "read the ring fd, close the ring fd", 2, false);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 3);
    submit(b, o, "the ring still works");
    reap(b, o, "the ring still works", 1, true);
    return o;
}

template <class B>
Outcome scenario_registration_errors(B& b) {
    Outcome o;
    const int fd = b.create_file("reg.txt", "registered");
    const int bad[2] = {fd, kBadFd};
    fact(o, "register_files [fd, bad fd]", B::io_uring_register_files(&b.ring, bad, 2));
    const int good[2] = {fd, -1};
    fact(o, "register_files [fd, -1]", B::io_uring_register_files(&b.ring, good, 2));
    fact(o, "register_files again", B::io_uring_register_files(&b.ring, good, 2));
    const int bad_only[1] = {kBadFd};
    fact(o, "files_update(1, [bad fd])",
         B::io_uring_register_files_update(&b.ring, 1, bad_only, 1));
    fact(o, "unregister_files", B::io_uring_unregister_files(&b.ring));
    char area[64];
    iovec one{area, sizeof(area)};
    fact(o, "register_buffers", B::io_uring_register_buffers(&b.ring, &one, 1));
    fact(o, "register_buffers again", B::io_uring_register_buffers(&b.ring, &one, 1));
    fact(o, "unregister_buffers", B::io_uring_unregister_buffers(&b.ring));
    iovec empty{nullptr, 0};
    fact(o, "register_buffers of one empty iovec",
         B::io_uring_register_buffers(&b.ring, &empty, 1));
    b.close(fd);
    return o;
}

// --- what toyos refuses on purpose (the ABI header's deviations; test_differential.cpp) --------
template <class B>
Outcome scenario_deliberate_deviations(B& b) {
    Outcome o;
    int server = -1, client = -1;
    fact(o, "tcp pair", b.tcp_pair(&server, &client));
    const int fd = b.create_file("select.txt", "provided buffers");
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, nullptr, 8, 0);  // from buffer group 0: none is provided
    tag(s, 1, IOSQE_BUFFER_SELECT);
    submit(b, o, "read with IOSQE_BUFFER_SELECT");
    reap(b, o, "read with IOSQE_BUFFER_SELECT", 1, true);
    // Ancillary data: an IP_TOS control message, which TCP ignores on Linux.
    char data[] = "with a control message";
    iovec iov{data, sizeof(data) - 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_TOS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    const int tos = 0;
    std::memcpy(CMSG_DATA(c), &tos, sizeof(tos));
    s = next_sqe(b, o);
    B::io_uring_prep_sendmsg(s, client, &msg, 0);
    tag(s, 2);
    submit(b, o, "sendmsg with msg_control");
    reap(b, o, "sendmsg with msg_control", 1, true);
    b.close(fd);
    b.close(server);
    b.close(client);
    return o;
}

// --- validation errors Linux defines, each submitted alone ---------------------------------------
template <class B>
Outcome scenario_prep_errors(B& b) {
    Outcome o;
    char buf[16];
    iovec one{buf, sizeof(buf)};
    __kernel_timespec ts{1, 0};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    const int fd = b.create_file("errors.txt", "x");
    const int sock = b.tcp_socket();
    auto alone = [&](uint64_t user_data, const std::string& what, auto&& prep) {
        io_uring_sqe* s = next_sqe(b, o);
        prep(s);
        s->user_data = user_data;
        submit(b, o, what);
        reap(b, o, what, 1, true);
    };
    alone(1, "readv of 1025 iovecs",
          [&](io_uring_sqe* s) { B::io_uring_prep_readv(s, fd, &one, 1025, 0); });
    alone(2, "timeout with len 2", [&](io_uring_sqe* s) {
        B::io_uring_prep_timeout(s, &ts, 0, 0);
        s->len = 2;
    });
    alone(3, "link timeout with nothing to guard",
          [&](io_uring_sqe* s) { B::io_uring_prep_link_timeout(s, &ts, 0); });
    alone(4, "cancel with unknown flags",
          [&](io_uring_sqe* s) { B::io_uring_prep_cancel64(s, 1, 1 << 30); });
    alone(5, "timeout with unknown flags",
          [&](io_uring_sqe* s) { B::io_uring_prep_timeout(s, &ts, 0, 1u << 30); });
    alone(6, "accept with unknown flags",
          [&](io_uring_sqe* s) { B::io_uring_prep_accept(s, sock, nullptr, nullptr, O_APPEND); });
    alone(7, "openat with IOSQE_FIXED_FILE", [&](io_uring_sqe* s) {
        B::io_uring_prep_openat(s, b.dir_fd(), "x.txt", O_RDONLY, 0);
        s->flags |= IOSQE_FIXED_FILE;
    });
    alone(8, "connect with addrlen 0", [&](io_uring_sqe* s) {
        B::io_uring_prep_connect(s, sock, reinterpret_cast<sockaddr*>(&addr), 0);
    });
    alone(9, "send on a file", [&](io_uring_sqe* s) { B::io_uring_prep_send(s, fd, "x", 1, 0); });
    alone(10, "readv with buf_index set", [&](io_uring_sqe* s) {
        B::io_uring_prep_readv(s, fd, &one, 1, 0);
        s->buf_index = 1;
    });
    expect_cq_empty(b, o, "after the errors");
    b.close(fd);
    b.close(sock);
    return o;
}

// --- TIMEOUT counts and timespecs as Linux reads them -----------------------------------------
// The count is sqe->off's low 32 bits; it counts posted CQEs: not skipped ones, a LINK_TIMEOUT's
// yes, a cancelled TIMEOUT's yes, a TIMEOUT that expired or met its count no. tv_nsec >= 10^9
// is accepted (added as it is).
template <class B>
Outcome scenario_timeout_count_semantics(B& b) {
    Outcome o;
    __kernel_timespec short_ts{0, 50'000'000};
    __kernel_timespec long_ts{10, 0};
    __kernel_timespec odd_ts{0, 2'000'000'000};  // tv_nsec of 2 s
    // off = 2^32 + 1: a count of 1.
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &long_ts, 1, 0);
    s->off = (1ull << 32) + 1;
    tag(s, 1);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 2);
    submit(b, o, "timeout off 2^32+1, nop");
    reap(b, o, "timeout off 2^32+1, nop", 2, true);
    // off = 2^64 - 1: a count of 2^32 - 1, so the timer ends it.
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &short_ts, 1, 0);
    s->off = ~0ull;
    tag(s, 3);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 4);
    submit(b, o, "timeout off 2^64-1, nop");
    reap(b, o, "timeout off 2^64-1, nop", 2, true);
    // A skipped CQE does not count.
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &short_ts, 1, 0);
    tag(s, 5);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 6, IOSQE_CQE_SKIP_SUCCESS);
    submit(b, o, "timeout count 1, skipped nop");
    reap(b, o, "timeout count 1, skipped nop", 1, true);
    expect_cq_empty(b, o, "after the skipped nop");
    // A LINK_TIMEOUT's CQE counts.
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &short_ts, 2, 0);
    tag(s, 7);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 8, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_link_timeout(s, &long_ts, 0);
    tag(s, 9);
    submit(b, o, "timeout count 2, nop guarded by a link timeout");
    reap(b, o, "timeout count 2, nop guarded by a link timeout", 3, true);
    // A cancelled TIMEOUT's CQE counts (the cancel's own is skipped).
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &long_ts, 0, 0);
    tag(s, 10);
    submit(b, o, "a 10 s timeout");
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &short_ts, 1, 0);
    tag(s, 11);
    submit(b, o, "timeout count 1");
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 10, 0);
    tag(s, 12, IOSQE_CQE_SKIP_SUCCESS);
    submit(b, o, "cancel the 10 s timeout, CQE skipped");
    reap(b, o, "the cancelled timeout, then the counted one", 2, true);
    // A TIMEOUT that met its count does not count for another.
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &short_ts, 1, 0);
    tag(s, 13);
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &short_ts, 2, 0);
    tag(s, 14);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 15);
    submit(b, o, "timeouts of count 1 and 2, one nop");
    reap(b, o, "timeouts of count 1 and 2, one nop", 3, true);
    // tv_nsec of 2 s: accepted; the count ends it.
    s = next_sqe(b, o);
    B::io_uring_prep_timeout(s, &odd_ts, 1, 0);
    tag(s, 16);
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 17);
    submit(b, o, "timeout with tv_nsec 2e9, nop");
    reap(b, o, "timeout with tv_nsec 2e9, nop", 2, true);
    // A LINK_TIMEOUT's off is 32 bits too: 2^32 is 0, accepted.
    s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, 18, IOSQE_IO_LINK);
    s = next_sqe(b, o);
    B::io_uring_prep_link_timeout(s, &long_ts, 0);
    s->off = 1ull << 32;
    tag(s, 19);
    submit(b, o, "nop guarded by a link timeout with off 2^32");
    reap(b, o, "nop guarded by a link timeout with off 2^32", 2, true);
    expect_cq_empty(b, o, "after the timeouts");
    return o;
}

// --- io_uring_enter's EXT_ARG timeout at its extremes ----------------------------------------
// Huge timeouts saturate (a 100 ms TIMEOUT in flight ends the wait, res 0); a negative one has
// already expired (-ETIME); any tv_nsec is added as it is; a wait that times out with fewer CQEs
// than asked, but some, returns 0.
template <class B>
Outcome scenario_enter_timeout_extremes(B& b) {
    Outcome o;
    __kernel_timespec in_flight{0, 100'000'000};
    const __kernel_timespec waits[] = {
        {INT64_MAX, 0}, {1ll << 62, 0}, {18446744074ll, 0}, {0, 1'000'000'000}, {0, INT64_MAX},
        {-1, 0},        {0, -1},        {INT64_MIN, 0},
    };
    uint64_t ud = 1;
    for (const __kernel_timespec& w : waits) {
        const std::string what =
            "wait {" + std::to_string(w.tv_sec) + ", " + std::to_string(w.tv_nsec) + "}";
        io_uring_sqe* s = next_sqe(b, o);
        B::io_uring_prep_timeout(s, &in_flight, 0, 0);
        tag(s, ud++);
        submit(b, o, what + ": a 100 ms timeout");
        __kernel_timespec ts = w;
        fact(o, what + ": io_uring_enter", b.enter_getevents(1, &ts));
        reap(b, o, what + ": the timeout", 1, true);
    }
    // Two CQEs asked, one ready: the 10 ms wait times out and returns 0.
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_nop(s);
    tag(s, ud++);
    submit(b, o, "one nop");
    B::io_uring_submit_and_wait(&b.ring, 1);
    __kernel_timespec ten_ms{0, 10'000'000};
    fact(o, "wait for 2 of 1 ready, 10 ms: io_uring_enter", b.enter_getevents(2, &ten_ms));
    reap(b, o, "the nop", 1, true);
    expect_cq_empty(b, o, "after the waits");
    return o;
}

// --- Errnos where toyos once answered otherwise ------------------------------------------------
template <class B>
Outcome scenario_small_errno_differences(B& b) {
    Outcome o;
    // A registered ring index with no ring registered there; one past the table.
    fact(o, "enter REGISTERED_RING index 3", b.enter_raw(3, IORING_ENTER_REGISTERED_RING));
    fact(o, "enter REGISTERED_RING index 20", b.enter_raw(20, IORING_ENTER_REGISTERED_RING));
    // More files than a process may have open.
    int many[40000];
    std::fill(std::begin(many), std::end(many), -1);
    fact(o, "register 40000 files", B::io_uring_register_files(&b.ring, many, 40000));
    // A buffer whose pages would run past the top of the address space.
    iovec top{reinterpret_cast<void*>(~uintptr_t{0} - 4095), 8192};
    fact(o, "register a buffer at the top", B::io_uring_register_buffers(&b.ring, &top, 1));
    // A files update whose range wraps around 2^32.
    int four[4] = {-1, -1, -1, -1};
    fact(o, "register 4 sparse files", B::io_uring_register_files(&b.ring, four, 4));
    int one = -1;
    fact(o, "files update at UINT32_MAX",
         B::io_uring_register_files_update(&b.ring, UINT32_MAX, &one, 1));
    fact(o, "unregister files", B::io_uring_unregister_files(&b.ring));
    // SEND with MSG_CMSG_CLOEXEC (ignored); RECVMSG with a 4096-byte name buffer (clamped).
    int server = -1, client = -1;
    fact(o, "tcp pair", b.tcp_pair(&server, &client) == 0 ? 0 : -1);
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_send(s, client, "hello", 5, MSG_CMSG_CLOEXEC);
    tag(s, 1);
    submit(b, o, "send with MSG_CMSG_CLOEXEC");
    reap(b, o, "send with MSG_CMSG_CLOEXEC", 1, true);
    char got[8] = {};
    iovec iov{got, sizeof(got)};
    char name[4096];
    msghdr m{};
    m.msg_name = name;
    m.msg_namelen = sizeof(name);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    s = next_sqe(b, o);
    B::io_uring_prep_recvmsg(s, server, &m, 0);
    tag(s, 2);
    submit(b, o, "recvmsg with msg_namelen 4096");
    reap(b, o, "recvmsg with msg_namelen 4096", 1, true);
    fact(o, "recvmsg msg_namelen after", m.msg_namelen);
    bytes_fact(o, "recvmsg bytes", got, 5);
    b.close(server);
    b.close(client);
    expect_cq_empty(b, o, "after the checks");
    return o;
}

// --- dup, dup2, dup3, fcntl: a dup shares the file (offset, status flags), FD_CLOEXEC is the
// number's; errnos as Linux's. Ring operations run on the duplicates. -------------------------
template <class B>
Outcome scenario_fd_calls(B& b) {
    Outcome o;
    const int made = b.create_file("dup.txt", "abcdef");
    const int other = b.create_file("other.txt", "OTHER");
    const int fd = b.open_file("dup.txt", O_RDWR);  // at offset 0
    fact(o, "files", made >= 0 && other >= 0 && fd >= 0);
    b.close(made);
    const int d = b.dup(fd);
    fact(o, "dup gives a new fd", d >= 0 && d != fd);
    fact(o, "dup's FD_CLOEXEC", b.fcntl(d, F_GETFD));
    fact(o, "F_GETFL of an O_RDWR file", b.fcntl(fd, F_GETFL));
    // The offset is shared: a READ at the current position (-1) of the dup starts where a
    // read through the original stopped.
    char buf[8] = {};
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, buf, 2, -1);
    tag(s, 1);
    submit(b, o, "read 2 at the position of the original");
    reap(b, o, "read 2 at the position of the original", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, d, buf + 2, 2, -1);
    tag(s, 2);
    submit(b, o, "read 2 at the position of the dup");
    reap(b, o, "read 2 at the position of the dup", 1, true);
    bytes_fact(o, "bytes read through both", buf, 4);
    // Status flags are shared too; O_APPEND makes a write at offset 0 append.
    fact(o, "F_SETFL O_APPEND|O_NONBLOCK on the dup", b.fcntl(d, F_SETFL, O_APPEND | O_NONBLOCK));
    fact(o, "F_GETFL of the original", b.fcntl(fd, F_GETFL));
    s = next_sqe(b, o);
    B::io_uring_prep_write(s, fd, "XY", 2, 0);
    tag(s, 3);
    submit(b, o, "write 2 at offset 0 with O_APPEND");
    reap(b, o, "write 2 at offset 0 with O_APPEND", 1, true);
    o.facts.push_back("dup.txt = " + b.file_content("dup.txt"));
    fact(o, "F_SETFL back to 0", b.fcntl(d, F_SETFL, 0));
    fact(o, "F_GETFL after", b.fcntl(fd, F_GETFL));
    // FD_CLOEXEC belongs to the number.
    const int c = b.fcntl(fd, F_DUPFD_CLOEXEC, 100);
    fact(o, "F_DUPFD_CLOEXEC 100 gives >= 100", c >= 100);
    fact(o, "its FD_CLOEXEC", b.fcntl(c, F_GETFD));
    fact(o, "the original's FD_CLOEXEC", b.fcntl(fd, F_GETFD));
    fact(o, "F_SETFD 0", b.fcntl(c, F_SETFD, 0));
    fact(o, "its FD_CLOEXEC after", b.fcntl(c, F_GETFD));
    // dup2 onto an open fd closes what it held; onto itself it is a no-op.
    fact(o, "dup2 onto itself returns it", b.dup2(fd, fd) == fd);
    fact(o, "dup2 onto the other file's fd returns it", b.dup2(fd, other) == other);
    char again[4] = {};
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, other, again, 3, 0);
    tag(s, 4);
    submit(b, o, "read through the replaced fd");
    reap(b, o, "read through the replaced fd", 1, true);
    bytes_fact(o, "bytes through the replaced fd", again, 3);
    const int t = b.dup3(fd, c, O_CLOEXEC);
    fact(o, "dup3 O_CLOEXEC returns the target", t == c);
    fact(o, "dup3's FD_CLOEXEC", b.fcntl(c, F_GETFD));
    // Errors.
    fact(o, "dup of a bad fd", b.dup(kBadFd));
    fact(o, "dup2 of a bad fd", b.dup2(kBadFd, 3));
    fact(o, "dup2 onto -1", b.dup2(fd, -1));
    fact(o, "dup3 onto itself", b.dup3(fd, fd, 0));
    fact(o, "dup3 with a bad flag", b.dup3(fd, c, 1));
    fact(o, "F_DUPFD -1", b.fcntl(fd, F_DUPFD, -1));
    fact(o, "F_GETFD of a bad fd", b.fcntl(kBadFd, F_GETFD));
    fact(o, "fcntl with an unknown command", b.fcntl(fd, 9999));
    // Closing the original leaves the dup working.
    b.close(fd);
    char last[2] = {};
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, d, last, 2, 0);
    tag(s, 5);
    submit(b, o, "read through the dup after the original closed");
    reap(b, o, "read through the dup after the original closed", 1, true);
    bytes_fact(o, "bytes through the dup", last, 2);
    b.close(d);
    b.close(other);
    b.close(c);
    expect_cq_empty(b, o, "after the fd calls");
    return o;
}

// --- /dev/null, /dev/zero, /dev/full, /dev/urandom through syscalls and ring operations ------
template <class B>
Outcome scenario_memory_devices(B& b) {
    Outcome o;
    const int null_fd = b.open_path("/dev/null", O_RDWR);
    const int zero = b.open_path("/dev/zero", O_RDONLY);
    const int full = b.open_path("/dev/full", O_RDWR);
    const int urandom = b.open_path("/dev/urandom", O_RDONLY);
    fact(o, "opened", null_fd >= 0 && zero >= 0 && full >= 0 && urandom >= 0);
    const int redirect = b.open_path("/dev/null", O_WRONLY | O_CREAT | O_TRUNC);
    fact(o, "open /dev/null O_CREAT|O_TRUNC (a shell's >)", redirect >= 0);
    fact(o, "open /dev/null O_CREAT|O_EXCL", b.open_path("/dev/null", O_WRONLY | O_CREAT | O_EXCL));
    fact(o, "open /dev/null O_DIRECTORY", b.open_path("/dev/null", O_RDONLY | O_DIRECTORY));
    fact(o, "/dev/zero st_mode", b.fstat_mode(zero));
    fact(o, "/dev/zero st_rdev", b.fstat_rdev(zero));
    char zeros[8];
    std::memset(zeros, 'x', sizeof(zeros));
    char nothing[4] = {};
    char fulls[8];
    std::memset(fulls, 'x', sizeof(fulls));
    unsigned char random[16] = {};
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_read(s, zero, zeros, sizeof(zeros), 0);
    tag(s, 1);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, null_fd, nothing, sizeof(nothing), 0);
    tag(s, 2);
    s = next_sqe(b, o);
    B::io_uring_prep_write(s, null_fd, "gone", 4, 0);
    tag(s, 3);
    s = next_sqe(b, o);
    B::io_uring_prep_write(s, full, "full", 4, 0);
    tag(s, 4);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, full, fulls, sizeof(fulls), 0);
    tag(s, 5);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, urandom, random, sizeof(random), 0);
    tag(s, 6);
    submit(b, o, "reads and writes of the devices");
    reap(b, o, "reads and writes of the devices", 6, false);
    auto zero_bytes = [](const char* p, size_t n) {
        long long z = 0;
        for (size_t i = 0; i < n; ++i) z += p[i] == 0;
        return z;
    };
    fact(o, "/dev/zero gave zero bytes", zero_bytes(zeros, sizeof(zeros)));
    fact(o, "/dev/full gave zero bytes", zero_bytes(fulls, sizeof(fulls)));
    int nonzero = 0;
    for (unsigned char c : random) nonzero += c != 0;
    fact(o, "/dev/urandom gave some non-zero bytes", nonzero > 0);
    for (int fd : {null_fd, zero, full, urandom, redirect}) b.close(fd);
    expect_cq_empty(b, o, "after the devices");
    return o;
}

// --- memory the caller does not have ---------------------------------------------------------
// Linux fails a bad data buffer when the operation runs (the SQE is consumed, its CQE is
// -EFAULT, a link chain breaks there: earlier links ran, later ones -ECANCELED), but memory it
// copies at prep (iovec arrays, msghdrs, paths, timespecs, sockaddrs to send) fails the SQE at
// prep (the whole chain -ECANCELED). toyos must answer each the same way.
template <class B>
Outcome scenario_foreign_memory(B& b) {
    Outcome o;
    void* bad = unmapped_address();
    const int fd = b.create_file("foreign.txt", "0123456789");
    int server = -1, client = -1;
    if (b.tcp_pair(&server, &client) < 0) o.failures.push_back("tcp_pair");
    // Two such SQEs in one submission: both consumed, both -EFAULT (toyos used to stop the
    // submission at the first, and submit_and_wait(2) never returned).
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, bad, 4, 0);
    tag(s, 1);
    s = next_sqe(b, o);
    B::io_uring_prep_read(s, fd, bad, 4, 0);
    tag(s, 2);
    fact(o, "two foreign reads: io_uring_submit_and_wait(2)",
         B::io_uring_submit_and_wait(&b.ring, 2));
    reap(b, o, "two foreign reads", 2, false);
    // Each case as the middle of NOP -> case -> NOP.
    uint64_t base = 10;
    auto chained = [&](const std::string& what, auto&& prep) {
        io_uring_sqe* q = next_sqe(b, o);
        B::io_uring_prep_nop(q);
        tag(q, base + 1, IOSQE_IO_LINK);
        q = next_sqe(b, o);
        prep(q);
        tag(q, base + 2, IOSQE_IO_LINK);
        q = next_sqe(b, o);
        B::io_uring_prep_nop(q);
        tag(q, base + 3);
        submit(b, o, what);
        reap(b, o, what, 3, true);
        expect_cq_empty(b, o, what);
        base += 10;
    };
    char buf[16];
    iovec bad_buf{bad, 4};
    iovec good{buf, sizeof(buf)};
    msghdr bad_iov_msg{};
    bad_iov_msg.msg_iov = &bad_buf;
    bad_iov_msg.msg_iovlen = 1;
    msghdr bad_name_msg{};
    bad_name_msg.msg_name = bad;
    bad_name_msg.msg_namelen = sizeof(sockaddr_in);
    bad_name_msg.msg_iov = &good;
    bad_name_msg.msg_iovlen = 1;
    chained("read into it", [&](io_uring_sqe* q) { B::io_uring_prep_read(q, fd, bad, 4, 0); });
    chained("write from it", [&](io_uring_sqe* q) { B::io_uring_prep_write(q, fd, bad, 4, 0); });
    chained("readv, the iovec array there", [&](io_uring_sqe* q) {
        B::io_uring_prep_readv(q, fd, static_cast<const iovec*>(bad), 1, 0);
    });
    chained("readv, an iovec's buffer there",
            [&](io_uring_sqe* q) { B::io_uring_prep_readv(q, fd, &bad_buf, 1, 0); });
    chained("openat, the path there", [&](io_uring_sqe* q) {
        B::io_uring_prep_openat(q, b.dir_fd(), static_cast<const char*>(bad), O_RDONLY, 0);
    });
    chained("timeout, the timespec there", [&](io_uring_sqe* q) {
        B::io_uring_prep_timeout(q, static_cast<__kernel_timespec*>(bad), 0, 0);
    });
    chained("sendmsg, the msghdr there", [&](io_uring_sqe* q) {
        B::io_uring_prep_sendmsg(q, client, static_cast<const msghdr*>(bad), 0);
    });
    chained("recvmsg, the msghdr there", [&](io_uring_sqe* q) {
        B::io_uring_prep_recvmsg(q, server, static_cast<msghdr*>(bad), 0);
    });
    chained("sendmsg, an iovec's buffer there",
            [&](io_uring_sqe* q) { B::io_uring_prep_sendmsg(q, client, &bad_iov_msg, 0); });
    chained("sendmsg, the name there",
            [&](io_uring_sqe* q) { B::io_uring_prep_sendmsg(q, client, &bad_name_msg, 0); });
    chained("send from it", [&](io_uring_sqe* q) { B::io_uring_prep_send(q, client, bad, 4, 0); });
    chained("connect, the address there", [&](io_uring_sqe* q) {
        B::io_uring_prep_connect(q, b.tcp_socket(), static_cast<const sockaddr*>(bad),
                                 sizeof(sockaddr_in));
    });
    b.send(client, "hello", 5);
    chained("recv into it, data waiting",
            [&](io_uring_sqe* q) { B::io_uring_prep_recv(q, server, bad, 4, 0); });
    // On TCP the sender's name is 0 bytes: nothing is written there, msg_namelen becomes 0.
    chained("recvmsg on TCP, the name there",
            [&](io_uring_sqe* q) { B::io_uring_prep_recvmsg(q, server, &bad_name_msg, 0); });
    fact(o, "recvmsg on TCP: msg_namelen after", bad_name_msg.msg_namelen);
    iovec reg{buf, sizeof(buf)};
    fact(o, "register a buffer", B::io_uring_register_buffers(&b.ring, &reg, 1));
    chained("read_fixed outside the registered buffer",
            [&](io_uring_sqe* q) { B::io_uring_prep_read_fixed(q, fd, bad, 4, 0, 0); });
    chained("read_fixed with an unregistered index",
            [&](io_uring_sqe* q) { B::io_uring_prep_read_fixed(q, fd, buf, 4, 0, 3); });
    fact(o, "unregister", B::io_uring_unregister_buffers(&b.ring));
    b.close(fd);
    b.close(server);
    b.close(client);
    return o;
}

// --- ACCEPT's address ------------------------------------------------------------------------
// Linux reads *addrlen when the connection is accepted, not at submission, writes at most that
// many bytes of the address and sets *addrlen to the full length; a bad addr or addrlen is the
// CQE's -EFAULT (the connection is dropped), a negative *addrlen its -EINVAL.
template <class B>
Outcome scenario_accept_address_copy_out(B& b) {
    Outcome o;
    sockaddr_in to{};
    const int lfd = b.tcp_listener(&to);
    if (lfd < 0) o.failures.push_back("tcp_listener");
    unsigned char peer[64];
    socklen_t len = 0;
    uint64_t id = 1;
    // Submits ACCEPT(addr, lenp) with *addrlen = before, sets it to after, connects.
    auto accept_one = [&](const std::string& what, void* addr, socklen_t* lenp, socklen_t before,
                          socklen_t after) {
        std::memset(peer, 0x55, sizeof(peer));
        if (lenp == &len) len = before;
        io_uring_sqe* s = next_sqe(b, o);
        B::io_uring_prep_accept(s, lfd, static_cast<sockaddr*>(addr), lenp, 0);
        tag(s, id);
        submit(b, o, what);
        if (lenp == &len) len = after;
        const int c = b.tcp_socket();
        fact(o, what + ": connect", b.connect(c, &to));
        Step& step = reap(b, o, what, 1, true, {id});
        const int res = res_of(step, id);
        if (res >= 0) b.close(res);
        b.close(c);
        fact(o, what + ": *addrlen after", static_cast<long long>(len));
        fact(o, what + ": family written", peer[0] == AF_INET && peer[1] == 0);
        fact(o, what + ": address written", peer[4] == 127 && peer[7] == 1);
        std::string untouched;  // (not the port's bytes 2-3: ephemeral, differ between sides)
        for (size_t i = 0; i < sizeof(peer); ++i)
            if (i != 2 && i != 3 && peer[i] == 0x55) untouched += std::to_string(i) + ",";
        o.facts.push_back(what + ": bytes left alone " + untouched);
        ++id;
    };
    accept_one("addrlen 0, raised to 128 before the connection", peer, &len, 0, 128);
    accept_one("addrlen 4", peer, &len, 4, 4);
    accept_one("addrlen 0", peer, &len, 0, 0);
    accept_one("addrlen -1", peer, &len, 0, static_cast<socklen_t>(-1));
    accept_one("addr unmapped", unmapped_address(), &len, 16, 16);
    accept_one("addrlen unmapped", peer, static_cast<socklen_t*>(unmapped_address()), 0, 0);
    accept_one("no addr", nullptr, nullptr, 0, 0);
    b.close(lfd);
    return o;
}

// --- the probe: every opcode of toyos's table of operations is Linux's opcode --------------
// The rows below toyos's own numbers (IORING_OP_TOYOS_LSEEK) must be supported on both; what
// the host has and toyos has not yet is the open work, not compared.
template <class B>
Outcome scenario_probe(B& b) {
    Outcome o;
    io_uring_probe* p = B::io_uring_get_probe_ring(&b.ring);
    fact(o, "io_uring_get_probe_ring", p != nullptr);
    if (p == nullptr) return o;
    for (unsigned op = 0; op < IORING_OP_TOYOS_LSEEK; ++op)
        if (const char* name = iouring::opcode_name(static_cast<uint8_t>(op)))
            fact(o, std::string("supports ") + name, B::io_uring_opcode_supported(p, op));
    B::io_uring_free_probe(p);
    return o;
}

// --- POLL_ADD and POLL_REMOVE -----------------------------------------------------------------
template <class B>
Outcome scenario_poll(B& b) {
    Outcome o;
    int server = -1, client = -1;
    fact(o, "tcp pair", b.tcp_pair(&server, &client));
    const int fd = b.create_file("poll.txt", "ready");
    // A regular file is always ready to read and write, and never for anything else.
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_poll_add(s, fd, POLLIN);
    tag(s, 1);
    s = next_sqe(b, o);
    B::io_uring_prep_poll_add(s, fd, POLLIN | POLLOUT | POLLPRI | POLLRDNORM);
    tag(s, 2);
    s = next_sqe(b, o);
    B::io_uring_prep_poll_add(s, fd, POLLPRI);
    tag(s, 3);
    submit(b, o, "three polls on a regular file");
    reap(b, o, "three polls on a regular file", 3, false);
    // A connected socket can be written at once; it is readable once data comes.
    s = next_sqe(b, o);
    B::io_uring_prep_poll_add(s, server, POLLOUT);
    tag(s, 4);
    submit(b, o, "poll for room");
    reap(b, o, "poll for room", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_poll_add(s, server, POLLIN);
    tag(s, 5);
    submit(b, o, "poll for data");
    expect_cq_empty(b, o, "nothing sent yet");
    static char one[] = "x";
    s = next_sqe(b, o);
    B::io_uring_prep_send(s, client, one, 1, 0);
    tag(s, 6);
    submit(b, o, "send a byte");
    reap(b, o, "the poll and the send", 2, false);
    s = next_sqe(b, o);
    B::io_uring_prep_poll_add(s, server, POLLIN | POLLRDNORM | POLLOUT);
    tag(s, 7);
    submit(b, o, "poll with data queued");
    reap(b, o, "poll with data queued", 1, true);
    // POLL_REMOVE: the poll completes with -ECANCELED, the remove with 0.
    s = next_sqe(b, o);
    B::io_uring_prep_poll_add(s, client, POLLIN);
    tag(s, 8);
    submit(b, o, "poll a silent socket");
    s = next_sqe(b, o);
    B::io_uring_prep_poll_remove(s, 8);
    tag(s, 9);
    submit(b, o, "remove it");
    reap(b, o, "the poll and its remove", 2, false);
    s = next_sqe(b, o);
    B::io_uring_prep_poll_remove(s, 0xdead);
    tag(s, 10);
    submit(b, o, "remove an unknown poll");
    reap(b, o, "remove an unknown poll", 1, true);
    // It finds polls only: a RECV of that user_data is not one.
    char buf[8];
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, client, buf, sizeof(buf), 0);
    tag(s, 11);
    submit(b, o, "recv on a silent socket");
    s = next_sqe(b, o);
    B::io_uring_prep_poll_remove(s, 11);
    tag(s, 12);
    submit(b, o, "poll_remove of the recv");
    reap(b, o, "poll_remove of the recv", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_cancel64(s, 11, 0);
    tag(s, 13);
    submit(b, o, "cancel the recv");
    reap(b, o, "the recv and its cancel", 2, false);
    // The peer's FIN: POLLRDHUP, which every poll reports, here the only event asked for.
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
    tag(s, 14);
    submit(b, o, "read the byte");
    reap(b, o, "read the byte", 1, true);
    b.close(client);
    s = next_sqe(b, o);
    B::io_uring_prep_poll_add(s, server, 0);
    tag(s, 15);
    submit(b, o, "poll for nothing but what is always reported");
    reap(b, o, "the peer's hangup", 1, true);
    // What prep refuses.
    s = next_sqe(b, o);
    B::io_uring_prep_poll_add(s, server, POLLIN);
    s->addr = 1;
    tag(s, 16);
    submit(b, o, "poll_add with addr");
    reap(b, o, "poll_add with addr", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_poll_remove(s, 8);
    s->off = 1;
    tag(s, 17);
    submit(b, o, "poll_remove with a new user_data but no update");
    reap(b, o, "poll_remove with a new user_data but no update", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_poll_remove(s, 8);
    s->len = IORING_POLL_ADD_MULTI;
    tag(s, 18);
    submit(b, o, "poll_remove with only the multishot flag");
    reap(b, o, "poll_remove with only the multishot flag", 1, true);
    b.close(fd);
    b.close(server);
    return o;
}

// --- SHUTDOWN -----------------------------------------------------------------------------------
template <class B>
Outcome scenario_shutdown(B& b) {
    Outcome o;
    int server = -1, client = -1;
    fact(o, "tcp pair", b.tcp_pair(&server, &client));
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_shutdown(s, client, SHUT_WR);
    tag(s, 1);
    submit(b, o, "shut the client's sending side");
    reap(b, o, "shut the client's sending side", 1, true);
    // The server reads the end of the stream, and can still send.
    char buf[8];
    s = next_sqe(b, o);
    B::io_uring_prep_recv(s, server, buf, sizeof(buf), 0);
    tag(s, 2);
    submit(b, o, "recv after the peer's shutdown");
    reap(b, o, "recv after the peer's shutdown", 1, true);
    static char data[] = "still open";
    s = next_sqe(b, o);
    B::io_uring_prep_send(s, server, data, sizeof(data) - 1, 0);
    tag(s, 3);
    submit(b, o, "send the other way");
    reap(b, o, "send the other way", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_shutdown(s, client, SHUT_RDWR);
    tag(s, 4);
    submit(b, o, "shut both sides");
    reap(b, o, "shut both sides", 1, true);
    // What the socket refuses, and what is no socket.
    s = next_sqe(b, o);
    B::io_uring_prep_shutdown(s, server, 7);
    tag(s, 5);
    submit(b, o, "how = 7");
    reap(b, o, "how = 7", 1, true);
    const int lone = b.tcp_socket();
    s = next_sqe(b, o);
    B::io_uring_prep_shutdown(s, lone, SHUT_RD);
    tag(s, 6);
    submit(b, o, "an unconnected socket");
    reap(b, o, "an unconnected socket", 1, true);
    const int fd = b.create_file("shutdown.txt", "no socket");
    s = next_sqe(b, o);
    B::io_uring_prep_shutdown(s, fd, SHUT_RD);
    tag(s, 7);
    submit(b, o, "a regular file");
    reap(b, o, "a regular file", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_shutdown(s, kBadFd, SHUT_RD);
    tag(s, 8);
    submit(b, o, "a bad fd");
    reap(b, o, "a bad fd", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_shutdown(s, server, SHUT_RD);
    s->addr = 1;
    tag(s, 9);
    submit(b, o, "shutdown with addr");
    reap(b, o, "shutdown with addr", 1, true);
    b.close(fd);
    b.close(lone);
    b.close(server);
    b.close(client);
    return o;
}

// --- STATX ----------------------------------------------------------------------------------
// What a statx says about a file of the scenario's own (not its inode or times, which differ).
inline void statx_fact(Outcome& o, const std::string& what, const struct statx& st) {
    fact(o, what + ": basic stats", (st.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
    fact(o, what + ": type", st.stx_mode & S_IFMT);
    fact(o, what + ": permissions", st.stx_mode & 07777);
    fact(o, what + ": size", static_cast<long long>(st.stx_size));
    fact(o, what + ": nlink", st.stx_nlink);
}

template <class B>
Outcome scenario_statx(B& b) {
    Outcome o;
    const int fd = b.create_file("statx.txt", "twelve bytes");
    static struct statx st[8];
    std::memset(st, 0, sizeof(st));
    auto one = [&](const std::string& what, int dfd, const char* path, int flags, unsigned mask,
                   struct statx* buf, uint64_t ud) {
        io_uring_sqe* s = next_sqe(b, o);
        B::io_uring_prep_statx(s, dfd, path, flags, mask, buf);
        tag(s, ud);
        submit(b, o, what);
        reap(b, o, what, 1, true);
    };
    one("a file by name", b.dir_fd(), "statx.txt", 0, STATX_BASIC_STATS, &st[0], 1);
    statx_fact(o, "a file by name", st[0]);
    one("the fd itself (AT_EMPTY_PATH)", fd, "", AT_EMPTY_PATH, STATX_SIZE, &st[1], 2);
    statx_fact(o, "the fd itself", st[1]);
    one("the directory", b.dir_fd(), ".", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &st[2], 3);
    fact(o, "the directory: type", st[2].stx_mode & S_IFMT);
    one("a missing file", b.dir_fd(), "missing", 0, STATX_BASIC_STATS, &st[3], 4);
    one("an empty path without AT_EMPTY_PATH", fd, "", 0, STATX_BASIC_STATS, &st[3], 5);
    one("a file descriptor that is not a directory", fd, "x", 0, STATX_BASIC_STATS, &st[3], 6);
    one("a bad directory fd", kBadFd, "statx.txt", 0, STATX_BASIC_STATS, &st[3], 7);
    one("unknown flags", b.dir_fd(), "statx.txt", 0x40000, STATX_BASIC_STATS, &st[3], 8);
    one("both sync types", b.dir_fd(), "statx.txt", AT_STATX_SYNC_TYPE, STATX_BASIC_STATS, &st[3],
        9);
    one("a reserved mask bit", b.dir_fd(), "statx.txt", 0, STATX__RESERVED, &st[3], 10);
    one("no buffer", b.dir_fd(), "statx.txt", 0, STATX_BASIC_STATS, nullptr, 11);
    one("no path", b.dir_fd(), nullptr, 0, STATX_BASIC_STATS, &st[3], 12);
    io_uring_sqe* s = next_sqe(b, o);
    B::io_uring_prep_statx(s, b.dir_fd(), "statx.txt", 0, STATX_BASIC_STATS, &st[3]);
    tag(s, 13, IOSQE_FIXED_FILE);
    submit(b, o, "a fixed file");
    reap(b, o, "a fixed file", 1, true);
    s = next_sqe(b, o);
    B::io_uring_prep_statx(s, b.dir_fd(), "statx.txt", 0, STATX_BASIC_STATS, &st[3]);
    s->buf_index = 1;
    tag(s, 14);
    submit(b, o, "buf_index set");
    reap(b, o, "buf_index set", 1, true);
    b.close(fd);
    return o;
}

// --- IORING_SETUP_R_DISABLED and IORING_REGISTER_ENABLE_RINGS -----------------------------
template <class B>
Outcome scenario_disabled_ring(B& b) {
    Outcome o;
    typename B::Ring r{};
    io_uring_params p{};
    p.flags = IORING_SETUP_R_DISABLED;
    const int init = B::io_uring_queue_init_params(4, &r, &p);
    fact(o, "setup with R_DISABLED", init);
    if (init < 0) return o;
    io_uring_sqe* s = B::io_uring_get_sqe(&r);
    B::io_uring_prep_nop(s);
    tag(s, 1);
    fact(o, "submit while disabled", B::io_uring_submit(&r));
    fact(o, "enter(GETEVENTS) while disabled", b.enter_raw(r.ring_fd, IORING_ENTER_GETEVENTS));
    fact(o, "enable", b.enable_rings(&r));
    fact(o, "enable again", b.enable_rings(&r));
    // The NOP waited in the SQ: the first enter after enabling takes it.
    fact(o, "submit after enabling", B::io_uring_submit_and_wait(&r, 1));
    io_uring_cqe* cqe = nullptr;
    fact(o, "its CQE", B::io_uring_peek_cqe(&r, &cqe));
    if (cqe != nullptr) {
        fact(o, "its user_data", static_cast<long long>(cqe->user_data));
        fact(o, "its res", cqe->res);
        B::io_uring_cqe_seen(&r, cqe);
    }
    B::io_uring_queue_exit(&r);
    fact(o, "enable a ring that was never disabled", b.enable_rings(&b.ring));
    return o;
}

}  // namespace toyos::diff
