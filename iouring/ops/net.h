// The network family: SEND, RECV, SENDMSG, RECVMSG, ACCEPT, CONNECT, SHUTDOWN. Socket addresses
// never reach the host as user pointers: what the host reads (CONNECT's, SENDMSG's name) is copied
// into the request at prep, what it writes (ACCEPT's, RECVMSG's name) lands in the request and
// is copied out through the checked door at completion (finish).
#pragma once

#include <cstdint>

#include "iouring/ops/op_def.h"

namespace toyos::iouring::net {

int prep_send(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_recv(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_sendmsg(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_recvmsg(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_accept(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_connect(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);
int prep_shutdown(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe);

int64_t run_send(Request& req);
int64_t run_recv(Request& req);
int64_t run_sendmsg(Request& req);
int64_t run_recvmsg(Request& req);
int64_t run_accept(Request& req);  // the host socket's fd: finish_accept installs it
int64_t run_connect(Request& req);
int64_t run_shutdown(Request& req);

void host_prep_send(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_recv(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_sendmsg(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_recvmsg(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_accept(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_connect(io_uring_sqe& sqe, Request& req, const HostTarget& target);
void host_prep_shutdown(io_uring_sqe& sqe, Request& req, const HostTarget& target);

// RECVMSG: the sender's address and the updated msghdr fields back to the submitter (res, or
// the -errno that becomes the CQE's res, as Linux's ____sys_recvmsg answers: the data is gone).
int32_t finish_recvmsg(Request& req, int32_t res);
// ACCEPT: `res` is the host socket, accepted into the request's storage; copy the peer's
// address out and install the socket in the submitter's fd table. The toy fd, or -errno (the
// socket closed, as Linux's do_accept drops it).
int32_t finish_accept(Request& req, int32_t res);

}  // namespace toyos::iouring::net
