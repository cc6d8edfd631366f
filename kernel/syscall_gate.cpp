// The syscall gate: the one way from a userland program into the kernel. It finds the calling
// process, dispatches, and on the way back ends the process's thread if the process exited or
// was killed (pthread_exit unwinds the program's frames, running its destructors).
#include <pthread.h>

#include "kernel/kernel.h"
#include "toyos/abi/syscalls.h"

extern "C" long toyos_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
    using namespace toyos::kernel;
    Process* p = current_process();
    if (p == nullptr) return -ENOSYS;  // not called from a toy process
    if (p->must_unwind()) pthread_exit(nullptr);
    const long r = p->kernel().dispatch(*p, nr, SyscallArgs{{a0, a1, a2, a3, a4, a5}});
    if (p->must_unwind()) pthread_exit(nullptr);
    return r;
}
