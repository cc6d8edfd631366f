// The table of operations: one row per io_uring opcode toyos implements, modelled on Linux's
// io_uring/opdef.c. Everything that differs from one opcode to another is a field of its row
// or a function of its family (ops/<family>.cpp): how its SQE is checked and turned into a
// request (prep), what its file operand must be, where it is issued (inside the ring, or by an
// executor), how the thread executor runs it with host syscalls (run), how the host ring
// executor writes it as a host SQE (host_prep), and what both do with a successful result
// (finish). The ring, the executors, the probe, the fault planner and every name in /proc and
// in traces read these rows; no other file lists opcodes.
//
// Adding an operation: its row in op_table.cpp, its functions in its family's file (declared
// in the family's header).
#pragma once

#include <array>
#include <cstdint>

#include "toyos/abi/io_uring.h"

namespace toyos::kernel {
class AddressSpace;
class File;
}  // namespace toyos::kernel

namespace toyos::iouring {

struct Request;
class Registrations;
class SyscallCompletionRing;

// What prep may consult besides the SQE: the submitter's memory (the checked door), the
// ring's registrations and its setup flags.
struct PrepContext {
    kernel::AddressSpace& mem;
    Registrations& regs;
    uint32_t setup_flags;
};

// Where a request goes when it is issued.
enum class IssueOn : uint8_t {
    Executor,  // an executor runs it: `run` on the thread pool, `host_prep` on a host ring
    Ring,      // the ring itself, through `issue` (TIMEOUT arms a timer, ASYNC_CANCEL searches)
    Inline,    // completes with 0 at issue, under the ring's lock (NOP)
};

// What the request's fd (sqe->fd, or a fixed-file index) must be, checked at issue.
enum class FileOperand : uint8_t {
    None,    // no file, or the fd table itself is the operand (OPENAT, CLOSE)
    Any,     // any file with a host description (a kernel object too, with kernel_object)
    Socket,  // -ENOTSOCK otherwise
    Device,  // a device file; `check_file` decides
};

// Which host ring can run it (HostRingExecutor); the rest runs on the thread pool.
enum class HostLane : uint8_t { None, General, Passthrough };

// Where the host ring executor puts a request: the host fd (or the slot of the ring's mirrored
// fixed file, with IOSQE_FIXED_FILE set by the reactor) and the host slot of its registered
// buffer (-1: not mirrored, run it as a plain read or write).
struct HostTarget {
    int fd = -1;
    int fixed_buffer = -1;
};

struct OpDef {
    const char* name = nullptr;  // null: toyos does not implement the opcode (-EINVAL)
    // The SQE's fields into `req` (0, or the errno for the SQE's CQE). Pointers go through
    // ctx.mem; a data buffer that fails its check is recorded as req.issue_error (Linux's
    // fault at issue).
    int (*prep)(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) = nullptr;
    IssueOn issue_on = IssueOn::Executor;
    void (*issue)(Request& req) = nullptr;  // IssueOn::Ring
    FileOperand file = FileOperand::None;
    bool kernel_object = false;  // may run on a kernel object with no host fd (a /proc file)
    bool iopoll = false;         // allowed on an IORING_SETUP_IOPOLL ring
    bool read_write = false;     // a short result is a failure; on IOPOLL it needs O_DIRECT
    bool vectored = false;       // its buffer is req.iov[0..iovcnt)
    bool fixed_buffer = false;   // its buffer is the registered buffer req.buf_index
    bool can_be_short = false;   // an injected fault may cut its byte count
    bool short_lane = false;     // the thread pool runs it ahead of long I/O (fd-table work)
    // A would-block attempt (-EAGAIN from `run`) waits for these poll events, unless the
    // request's op_flags hold `nowait_flag` (RWF_NOWAIT, MSG_DONTWAIT).
    uint16_t poll_events = 0;
    uint32_t nowait_flag = 0;
    // POLL_ADD: a would-block attempt waits for the request's own events (req.op_flags),
    // whether or not the file is O_NONBLOCK.
    bool waits_for_request_events = false;
    // After the file is resolved: what prep could not check without it (0 or -errno).
    int (*check_file)(Request& req, const kernel::File& file, uint32_t setup_flags) = nullptr;
    // The thread executor: one attempt with host syscalls on the calling thread.
    int64_t (*run)(Request& req) = nullptr;
    HostLane host = HostLane::None;
    void (*host_prep)(io_uring_sqe& sqe, Request& req, const HostTarget& target) = nullptr;
    // A successful (res >= 0) result from either executor, before the CQE: what the operation
    // still has to do in the kernel (ACCEPT installs the socket, RECVMSG copies the name out).
    int32_t (*finish)(Request& req, int32_t res) = nullptr;
};

// Indexed by opcode (op_table.cpp).
extern const std::array<OpDef, 256> kOpTable;

// The row of `opcode` (an unimplemented opcode's row has no name and no prep).
inline const OpDef& op_def(uint8_t opcode) {
    return kOpTable[opcode];
}

// Its name in /proc, traces and fault specs, or null.
inline const char* opcode_name(uint8_t opcode) {
    return op_def(opcode).name;
}

}  // namespace toyos::iouring
