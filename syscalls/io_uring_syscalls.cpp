// The ring syscalls: io_uring_setup, io_uring_enter, io_uring_register (the IoUringHandler of
// seed 004: it validates arguments and hands the ring work to the io_uring subsystem).
#include <linux/time_types.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "iouring/clock.h"
#include "iouring/manager.h"
#include "iouring/ops/op_def.h"
#include "iouring/ring_file.h"
#include "syscalls/common.h"

namespace toyos::kernel {
namespace {

using iouring::RingFile;
using iouring::SyscallCompletionRing;

Result<std::shared_ptr<SyscallCompletionRing>> ring_arg(SyscallContext& c, int fd) {
    FileRef f = TOYOS_TRY(c.proc.fds().get(fd));
    if (f->kind() != FileKind::Ring) return err(EOPNOTSUPP);
    return static_cast<RingFile&>(*f).ring();
}

SysResult sys_io_uring_setup(SyscallContext& c, const SyscallArgs& a) {
    const auto entries = static_cast<uint32_t>(a.a[0]);
    auto uparams = arg_ptr<io_uring_params>(a, 1);
    io_uring_params p{};
    TOYOS_TRY_VOID(c.proc.memory().copy_from_user(&p, uparams));
    const int fd = TOYOS_TRY(c.kernel.io_uring().setup(c.proc, entries, p));
    auto out = c.proc.memory().copy_to_user(uparams, &p);
    if (out.is_error()) {
        (void)c.proc.fds().remove(fd);
        return err(out.error());
    }
    return fd;
}

SysResult sys_io_uring_enter(SyscallContext& c, const SyscallArgs& a) {
    const auto to_submit = static_cast<uint32_t>(a.a[1]);
    const auto min_complete = static_cast<uint32_t>(a.a[2]);
    const auto flags = static_cast<uint32_t>(a.a[3]);
    constexpr uint32_t kKnown = IORING_ENTER_GETEVENTS | IORING_ENTER_SQ_WAKEUP |
                                IORING_ENTER_SQ_WAIT | IORING_ENTER_EXT_ARG |
                                IORING_ENTER_REGISTERED_RING;
    if (flags & ~kKnown) return err(EINVAL);
    if (flags & IORING_ENTER_REGISTERED_RING) {
        // The fd is an index into the task's registered ring fds (IO_RINGFD_REG_MAX of them).
        // toyos registers none yet (IORING_REGISTER_RING_FDS is -EINVAL), so every index in
        // range is empty: -EBADF, as Linux answers for an empty slot; past the table -EINVAL.
        constexpr long kRingFdRegMax = 16;
        return err(static_cast<unsigned long>(a.a[0]) >= kRingFdRegMax ? EINVAL : EBADF);
    }
    auto ring = TOYOS_TRY(ring_arg(c, arg_int(a, 0)));
    int64_t timeout_ns = -1;
    if (flags & IORING_ENTER_EXT_ARG) {
        // toyos has no signals, so a sigmask changes nothing; the timeout is honoured.
        if (static_cast<size_t>(a.a[5]) != sizeof(io_uring_getevents_arg)) return err(EINVAL);
        io_uring_getevents_arg arg{};
        TOYOS_TRY_VOID(c.proc.memory().copy_from_user(&arg, arg_ptr<io_uring_getevents_arg>(a, 4)));
        if (arg.ts != 0) {
            __kernel_timespec ts{};
            TOYOS_TRY_VOID(c.proc.memory().copy_from_user(&ts, UserPtr<__kernel_timespec>(arg.ts)));
            // As Linux (ktime_set, then added to the wait's start): saturated, any tv_nsec
            // added as it is, a negative total already expired (-ETIME, or 0 if CQEs wait).
            timeout_ns =
                std::max<int64_t>(0, iouring::saturating_timespec_ns(ts.tv_sec, ts.tv_nsec));
        }
    }
    return ring->enter(c.proc, to_submit, min_complete, flags, timeout_ns);
}

SysResult register_probe(SyscallContext& c, uint64_t arg, uint32_t nr_args) {
    if (nr_args > TOYOS_IORING_PROBE_OPS) nr_args = TOYOS_IORING_PROBE_OPS;
    const size_t size = sizeof(io_uring_probe) + nr_args * sizeof(io_uring_probe_op);
    std::vector<char> buf(size);
    TOYOS_TRY_VOID(c.proc.memory().copy_from_user(buf.data(), UserPtr<char>(arg), size));
    for (char ch : buf)
        if (ch != 0) return err(EINVAL);  // Linux wants a zeroed probe
    auto* probe = reinterpret_cast<io_uring_probe*>(buf.data());
    // Every row of the table of operations, and nothing else, is supported.
    for (unsigned op = 0; op < TOYOS_IORING_PROBE_OPS; ++op)
        if (iouring::op_def(static_cast<uint8_t>(op)).prep != nullptr)
            probe->last_op = static_cast<uint8_t>(op);
    probe->ops_len = static_cast<uint8_t>(std::min<uint32_t>(nr_args, probe->last_op + 1u));
    for (uint32_t i = 0; i < probe->ops_len; ++i) {
        probe->ops[i].op = static_cast<uint8_t>(i);
        if (iouring::op_def(static_cast<uint8_t>(i)).prep != nullptr)
            probe->ops[i].flags = IO_URING_OP_SUPPORTED;
    }
    TOYOS_TRY_VOID(c.proc.memory().copy_to_user(UserPtr<char>(arg), buf.data(), size));
    return 0;
}

SysResult register_op(SyscallContext& c, SyscallCompletionRing& ring, iouring::Registrations& regs,
                      uint32_t opcode, uint64_t arg, uint32_t nr_args);

SysResult sys_io_uring_register(SyscallContext& c, const SyscallArgs& a) {
    auto ring = TOYOS_TRY(ring_arg(c, arg_int(a, 0)));
    const auto opcode = static_cast<uint32_t>(a.a[1]);
    const auto arg = static_cast<uint64_t>(a.a[2]);
    const auto nr_args = static_cast<uint32_t>(a.a[3]);
    auto& regs = ring->registrations();
    if (opcode == IORING_REGISTER_BUFFERS || opcode == IORING_REGISTER_FILES) {
        // toyos run --fault register-buffers:error=ENOMEM (and register-files).
        if (const int e = ring->register_fault(opcode == IORING_REGISTER_BUFFERS); e != 0)
            return err(e);
    }
    auto result = register_op(c, *ring, regs, opcode, arg, nr_args);
    if (result.ok() && opcode != IORING_REGISTER_PROBE && opcode != IORING_REGISTER_EVENTFD &&
        opcode != IORING_REGISTER_EVENTFD_ASYNC && opcode != IORING_UNREGISTER_EVENTFD &&
        opcode != IORING_REGISTER_ENABLE_RINGS)
        c.kernel.io_uring().executor().registrations_changed(*ring);
    return result;
}

SysResult register_op(SyscallContext& c, SyscallCompletionRing& ring, iouring::Registrations& regs,
                      uint32_t opcode, uint64_t arg, uint32_t nr_args) {
    switch (opcode) {
        case IORING_REGISTER_BUFFERS:
            TOYOS_TRY_VOID(regs.register_buffers(c.proc, arg, nr_args));
            return 0;
        case IORING_UNREGISTER_BUFFERS:
            if (arg != 0 || nr_args != 0) return err(EINVAL);
            TOYOS_TRY_VOID(regs.unregister_buffers());
            return 0;
        case IORING_REGISTER_FILES:
            TOYOS_TRY_VOID(regs.register_files(c.proc, arg, nr_args));
            return 0;
        case IORING_UNREGISTER_FILES:
            if (arg != 0 || nr_args != 0) return err(EINVAL);
            TOYOS_TRY_VOID(regs.unregister_files());
            return 0;
        case IORING_REGISTER_FILES_UPDATE: {
            io_uring_files_update up{};
            TOYOS_TRY_VOID(
                c.proc.memory().copy_from_user(&up, UserPtr<io_uring_files_update>(arg)));
            if (up.resv != 0) return err(EINVAL);
            return regs.update_files(c.proc, up.offset, up.fds, nr_args);
        }
        case IORING_REGISTER_EVENTFD:
        case IORING_REGISTER_EVENTFD_ASYNC: {
            if (nr_args != 1) return err(EINVAL);
            int fd = 0;
            TOYOS_TRY_VOID(c.proc.memory().copy_from_user(&fd, UserPtr<int>(arg)));
            TOYOS_TRY_VOID(regs.register_eventfd(c.proc, fd));
            return 0;
        }
        case IORING_UNREGISTER_EVENTFD:
            if (arg != 0 || nr_args != 0) return err(EINVAL);
            TOYOS_TRY_VOID(regs.unregister_eventfd());
            return 0;
        case IORING_REGISTER_PROBE:
            return register_probe(c, arg, nr_args);
        case IORING_REGISTER_ENABLE_RINGS:
            if (arg != 0 || nr_args != 0) return err(EINVAL);
            if (const int e = ring.enable_rings(c.proc); e < 0) return err(-e);
            return 0;
        default:
            return err(EINVAL);
    }
}

}  // namespace

void register_io_uring_syscalls(SyscallHandlerRegistry& r) {
    using namespace abi;
    r.add(TOYOS_SYS_io_uring_setup, "io_uring_setup", sys_io_uring_setup);
    r.add(TOYOS_SYS_io_uring_enter, "io_uring_enter", sys_io_uring_enter);
    r.add(TOYOS_SYS_io_uring_register, "io_uring_register", sys_io_uring_register);
}

}  // namespace toyos::kernel
