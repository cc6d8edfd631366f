// The table of operations (op_def.h): one row per opcode toyos implements.
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "iouring/ops/cancel.h"
#include "iouring/ops/fs.h"
#include "iouring/ops/net.h"
#include "iouring/ops/nop.h"
#include "iouring/ops/op_def.h"
#include "iouring/ops/openclose.h"
#include "iouring/ops/poll.h"
#include "iouring/ops/rw.h"
#include "iouring/ops/sync.h"
#include "iouring/ops/timeout.h"
#include "iouring/ops/uring_cmd.h"

namespace toyos::iouring {
namespace {

constexpr std::array<OpDef, 256> build_table() {
    using enum IssueOn;
    using enum FileOperand;
    constexpr HostLane General = HostLane::General;
    constexpr HostLane Passthrough = HostLane::Passthrough;
    std::array<OpDef, 256> t{};
    t[IORING_OP_NOP] = {.name = "NOP", .prep = nop::prep, .issue_on = Inline, .iopoll = true};
    t[IORING_OP_READV] = {.name = "READV",
                          .prep = rw::prep_readv,
                          .file = Any,
                          .kernel_object = true,
                          .iopoll = true,
                          .read_write = true,
                          .vectored = true,
                          .can_be_short = true,
                          .poll_events = POLLIN,
                          .nowait_flag = RWF_NOWAIT,
                          .run = rw::run_readv,
                          .host = General,
                          .host_prep = rw::host_prep_readv};
    t[IORING_OP_WRITEV] = {.name = "WRITEV",
                           .prep = rw::prep_writev,
                           .file = Any,
                           .iopoll = true,
                           .read_write = true,
                           .vectored = true,
                           .can_be_short = true,
                           .poll_events = POLLOUT,
                           .nowait_flag = RWF_NOWAIT,
                           .run = rw::run_writev,
                           .host = General,
                           .host_prep = rw::host_prep_writev};
    t[IORING_OP_FSYNC] = {.name = "FSYNC",
                          .prep = sync::prep_fsync,
                          .file = Any,
                          .run = sync::run_fsync,
                          .host = General,
                          .host_prep = sync::host_prep_fsync};
    t[IORING_OP_READ_FIXED] = {.name = "READ_FIXED",
                               .prep = rw::prep_read_fixed,
                               .file = Any,
                               .iopoll = true,
                               .read_write = true,
                               .fixed_buffer = true,
                               .can_be_short = true,
                               .poll_events = POLLIN,
                               .nowait_flag = RWF_NOWAIT,
                               .run = rw::run_read,
                               .host = General,
                               .host_prep = rw::host_prep_read_fixed};
    t[IORING_OP_WRITE_FIXED] = {.name = "WRITE_FIXED",
                                .prep = rw::prep_write_fixed,
                                .file = Any,
                                .iopoll = true,
                                .read_write = true,
                                .fixed_buffer = true,
                                .can_be_short = true,
                                .poll_events = POLLOUT,
                                .nowait_flag = RWF_NOWAIT,
                                .run = rw::run_write,
                                .host = General,
                                .host_prep = rw::host_prep_write_fixed};
    t[IORING_OP_SENDMSG] = {.name = "SENDMSG",
                            .prep = net::prep_sendmsg,
                            .file = Socket,
                            .poll_events = POLLOUT,
                            .nowait_flag = MSG_DONTWAIT,
                            .run = net::run_sendmsg,
                            .host = General,
                            .host_prep = net::host_prep_sendmsg};
    t[IORING_OP_RECVMSG] = {.name = "RECVMSG",
                            .prep = net::prep_recvmsg,
                            .file = Socket,
                            .poll_events = POLLIN,
                            .nowait_flag = MSG_DONTWAIT,
                            .run = net::run_recvmsg,
                            .host = General,
                            .host_prep = net::host_prep_recvmsg,
                            .finish = net::finish_recvmsg};
    t[IORING_OP_POLL_ADD] = {.name = "POLL_ADD",
                             .prep = poll::prep_poll_add,
                             .file = Any,
                             .kernel_object = true,
                             .waits_for_request_events = true,
                             .run = poll::run_poll_add,
                             .host = General,
                             .host_prep = poll::host_prep_poll_add};
    t[IORING_OP_POLL_REMOVE] = {.name = "POLL_REMOVE",
                                .prep = poll::prep_poll_remove,
                                .issue_on = Ring,
                                .issue = poll::issue_poll_remove};
    t[IORING_OP_TIMEOUT] = {.name = "TIMEOUT",
                            .prep = timeout::prep_timeout,
                            .issue_on = Ring,
                            .issue = timeout::issue_timeout};
    // Never issued alone: submission attaches it to the request before it (ring.cpp).
    t[IORING_OP_LINK_TIMEOUT] = {
        .name = "LINK_TIMEOUT", .prep = timeout::prep_link_timeout, .issue_on = Ring};
    t[IORING_OP_ACCEPT] = {.name = "ACCEPT",
                           .prep = net::prep_accept,
                           .file = Socket,
                           .poll_events = POLLIN,
                           .run = net::run_accept,
                           .host = General,
                           .host_prep = net::host_prep_accept,
                           .finish = net::finish_accept};
    t[IORING_OP_ASYNC_CANCEL] = {.name = "ASYNC_CANCEL",
                                 .prep = cancel::prep_async_cancel,
                                 .issue_on = Ring,
                                 .issue = cancel::issue_async_cancel};
    t[IORING_OP_CONNECT] = {.name = "CONNECT",
                            .prep = net::prep_connect,
                            .file = Socket,
                            .poll_events = POLLOUT,
                            .run = net::run_connect,
                            .host = General,
                            .host_prep = net::host_prep_connect};
    t[IORING_OP_OPENAT] = {.name = "OPENAT",
                           .prep = openclose::prep_openat,
                           .short_lane = true,
                           .run = openclose::run_openat};
    t[IORING_OP_CLOSE] = {.name = "CLOSE",
                          .prep = openclose::prep_close,
                          .short_lane = true,
                          .run = openclose::run_close};
    t[IORING_OP_READ] = {.name = "READ",
                         .prep = rw::prep_read,
                         .file = Any,
                         .kernel_object = true,
                         .iopoll = true,
                         .read_write = true,
                         .can_be_short = true,
                         .poll_events = POLLIN,
                         .nowait_flag = RWF_NOWAIT,
                         .run = rw::run_read,
                         .host = General,
                         .host_prep = rw::host_prep_read};
    t[IORING_OP_WRITE] = {.name = "WRITE",
                          .prep = rw::prep_write,
                          .file = Any,
                          .iopoll = true,
                          .read_write = true,
                          .can_be_short = true,
                          .poll_events = POLLOUT,
                          .nowait_flag = RWF_NOWAIT,
                          .run = rw::run_write,
                          .host = General,
                          .host_prep = rw::host_prep_write};
    t[IORING_OP_SEND] = {.name = "SEND",
                         .prep = net::prep_send,
                         .file = Socket,
                         .can_be_short = true,
                         .poll_events = POLLOUT,
                         .nowait_flag = MSG_DONTWAIT,
                         .run = net::run_send,
                         .host = General,
                         .host_prep = net::host_prep_send};
    t[IORING_OP_RECV] = {.name = "RECV",
                         .prep = net::prep_recv,
                         .file = Socket,
                         .can_be_short = true,
                         .poll_events = POLLIN,
                         .nowait_flag = MSG_DONTWAIT,
                         .run = net::run_recv,
                         .host = General,
                         .host_prep = net::host_prep_recv};
    t[IORING_OP_STATX] = {
        .name = "STATX", .prep = fs::prep_statx, .short_lane = true, .run = fs::run_statx};
    t[IORING_OP_SHUTDOWN] = {.name = "SHUTDOWN",
                             .prep = net::prep_shutdown,
                             .file = Socket,
                             .run = net::run_shutdown,
                             .host = General,
                             .host_prep = net::host_prep_shutdown};
    t[IORING_OP_URING_CMD] = {.name = "URING_CMD",
                              .prep = uring_cmd::prep,
                              .file = Device,
                              .iopoll = true,
                              .check_file = uring_cmd::check_file,
                              .run = uring_cmd::run,
                              .host = Passthrough,
                              .host_prep = uring_cmd::host_prep};
    t[IORING_OP_TOYOS_LSEEK] = {.name = "LSEEK",
                                .prep = fs::prep_lseek,
                                .file = Any,
                                .kernel_object = true,
                                .short_lane = true,
                                .run = fs::run_lseek};
    return t;
}

}  // namespace

// Checked row by row by tests/unit/test_op_table.cpp (a compile-time check cannot compare
// function addresses in GCC's sanitizer builds).
constinit const std::array<OpDef, 256> kOpTable = build_table();

}  // namespace toyos::iouring
