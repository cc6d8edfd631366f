// Request: one accepted submission on its way through the kernel. Built from a copied and
// validated SQE, it carries everything an executor needs to run the operation on the host
// (host fd, checked buffers with their pins) and the ring bookkeeping (sequence number,
// link chain, timeouts). Requests come from a per-ring pool: the hot path does not allocate.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "iouring/fault_plan.h"
#include "kernel/async_executor.h"
#include "kernel/file.h"
#include "toyos/abi/io_uring.h"

namespace toyos::iouring {

class SyscallCompletionRing;
class Executor;

// Where a request is in the executor (for cancellation).
enum class ExecState : uint8_t { Queued, Running, Armed, Done };

struct Request final : kernel::AsyncWork {
    void run() override;  // on an AsyncSyscallExecutor worker: hand to the executor

    // Identity
    SyscallCompletionRing* ring = nullptr;
    // Whose memory and fd table the SQE's pointers and fds are (set at submission). Valid
    // while the request lives: the process's exit cancels and waits for its requests.
    kernel::Process* submitter = nullptr;
    // Set when handed to an executor; read by cancellers on other threads.
    std::atomic<Executor*> executor{nullptr};
    uint64_t seq = 0;
    uint64_t user_data = 0;
    uint8_t opcode = 0;
    uint8_t sqe_flags = 0;
    int32_t sqe_fd = -1;  // as submitted (toy fd or fixed-file index)

    // Operation arguments, validated at prep
    kernel::FileRef file;  // resolved at issue
    int host_fd = -1;
    void* addr = nullptr;
    uint32_t len = 0;
    uint64_t off = 0;
    uint32_t op_flags = 0;  // rw_flags / msg_flags / fsync_flags / accept / timeout / cancel
    uint64_t addr2 = 0;
    uint16_t buf_index = 0;  // READ_FIXED / WRITE_FIXED: the toy registered buffer
    iovec inline_iov[4]{};
    std::vector<iovec> heap_iov;
    iovec* iov = nullptr;
    uint32_t iovcnt = 0;
    msghdr msg{};              // SENDMSG/RECVMSG: kernel copy, pointers checked
    uint64_t user_msghdr = 0;  // where to write back msg_namelen/msg_flags
    // The socket address the host reads (CONNECT, SENDMSG's name, copied in at prep) or
    // writes (ACCEPT, RECVMSG's name): always kernel memory. The host never sees the user's
    // address pointer; what it wrote is copied out at completion (copy_out_sockaddr).
    sockaddr_storage sockaddr{};
    socklen_t sockaddr_len = 0;
    uint64_t user_sockaddr = 0;            // ACCEPT, RECVMSG: where the caller wants the address
    uint64_t user_addrlen = 0;             // and its length word, read and written at completion
    std::string path;                      // OPENAT
    std::vector<kernel::MappingRef> pins;  // user memory held while the host may touch it
    bool connect_started = false;
    int64_t timeout_ns = 0;       // TIMEOUT / LINK_TIMEOUT: relative duration
    uint32_t timeout_count = 0;   // TIMEOUT: CQEs to wait for (0: none); 32 bits as Linux
    uint64_t timeout_target = 0;  // TIMEOUT: the ring's completion count to reach
    uint64_t cancel_key = 0;
    // URING_CMD (NVMe passthrough): the command as submitted (the SQE128's 80-byte cmd area),
    // and the extra CQE32 words the device reports (big_cqe[0] = NVMe result dword 0).
    uint32_t cmd_op = 0;
    alignas(8) unsigned char cmd[80]{};
    uint64_t big_cqe[2]{};
    // Fault injection (fault_plan.h): decided at submission, applied at issue. A request cut
    // short keeps its full byte count, so that the short result still breaks a link chain.
    FaultAction fault;
    size_t full_bytes = 0;
    uint32_t cqe_flags = 0;  // what the host's CQE reported that Linux passes on (SOCK_NONEMPTY)
    int32_t prep_error = 0;  // failed validation inside a chain: its CQE's res (ring.cpp)
    // A buffer that failed the memory check at prep: Linux finds that fault only when the
    // operation runs, so the SQE is consumed and its issue completes it with this (-EFAULT).
    int32_t issue_error = 0;
    // Cancelled because an earlier link with IOSQE_CQE_SKIP_SUCCESS failed: Linux posts no CQE
    // for the rest of that chain (REQ_F_SKIP_LINK_CQES).
    bool skip_cqe = false;

    // Ring bookkeeping (guarded by the ring's lock)
    Request* link_next = nullptr;     // next in the chain, issued when this one succeeds
    Request* link_timeout = nullptr;  // a LINK_TIMEOUT guarding this request
    Request* lt_target = nullptr;     // for a LINK_TIMEOUT: the request it guards
    bool issued = false;
    // TIMEOUT: its timer is armed (set under the ring's lock when it is issued). Before that
    // it is only on its way to Ring::arm_timeout, which alone may complete it: a cancel or a
    // shutdown that claimed it in between completed a request its issue then completed again.
    bool timer_armed = false;
    bool in_chain_wait = false;
    bool drain_deferred = false;
    // Issued by its own submission, in SQ order, rather than let go later by a completion
    // (a link's next, a drained request): Linux runs the latter as task work after the whole
    // submission, so only they may find a TIMEOUT submitted after them (async_cancel).
    bool batch_issue = false;
    // Cancellers that call its executor outside the ring's lock pin it first: a pinned request
    // that completes is recycled (reset, reused) only when the last pin goes.
    uint16_t cancel_pins = 0;
    bool recycle_when_unpinned = false;
    bool freed = true;  // completed and given back (to the pool, or to its last pin): done
    Request* active_prev = nullptr;  // the ring's list of live requests
    Request* active_next = nullptr;
    // Issued and not yet completed: in the ring's cancel index (a bucket by user_data) and its
    // list of issued requests, which ASYNC_CANCEL searches instead of every live request.
    Request* index_next = nullptr;
    Request** index_pprev = nullptr;  // null: not in the index
    Request* issued_next = nullptr;
    Request** issued_pprev = nullptr;
    Request* free_next = nullptr;   // pool free list
    Request* issue_next = nullptr;  // IssueList link
    uint64_t submit_ns = 0;

    // Executor state
    Request* exec_next = nullptr;  // a batch handed to a host reactor (host_ring_executor.cpp)
    std::atomic<ExecState> exec_state{ExecState::Queued};
    std::atomic<bool> cancel_requested{false};
    std::atomic<bool> claimed{false};  // timeouts: first to claim completes it

    bool try_claim() { return !claimed.exchange(true, std::memory_order_acq_rel); }
    // Expected byte count of a read/write (a short one breaks a link chain, as in Linux).
    size_t expected_bytes() const;
    void reset();
};

// Requests to issue once the ring's lock is released (intrusive: no allocation), in order.
// Not copyable: `tail` points into the list itself while it is empty.
struct IssueList {
    Request* head = nullptr;
    Request** tail = &head;
    uint32_t count = 0;

    IssueList() = default;
    IssueList(const IssueList&) = delete;
    IssueList& operator=(const IssueList&) = delete;

    void push(Request* r) {
        r->issue_next = nullptr;
        *tail = r;
        tail = &r->issue_next;
        ++count;
    }
    Request* pop() {
        Request* r = head;
        if (r == nullptr) return nullptr;
        head = r->issue_next;
        if (head == nullptr) tail = &head;
        r->issue_next = nullptr;
        --count;
        return r;
    }
    // Moves all of `other` to the end of this list (or to its front), leaving `other` empty.
    void append(IssueList& other) {
        if (other.empty()) return;
        *tail = other.head;
        tail = other.tail;
        count += other.count;
        other.clear();
    }
    void prepend(IssueList& other) {
        if (other.empty()) return;
        *other.tail = head;
        if (head == nullptr) tail = other.tail;
        head = other.head;
        count += other.count;
        other.clear();
    }
    bool empty() const { return head == nullptr; }

  private:
    void clear() {
        head = nullptr;
        tail = &head;
        count = 0;
    }
};

}  // namespace toyos::iouring
