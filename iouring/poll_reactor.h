// PollReactor: where requests wait for a host socket to become ready, like Linux io_uring's
// internal poll arming. One thread and an epoll set; when a host fd is ready, the requests
// waiting on it are handed back to be retried. Any number of requests may wait on one fd.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace toyos::iouring {

struct Request;

class PollReactor {
  public:
    using Ready = std::function<void(Request*)>;
    explicit PollReactor(Ready on_ready);
    ~PollReactor();
    PollReactor(const PollReactor&) = delete;
    PollReactor& operator=(const PollReactor&) = delete;

    // Parks `req` until `events` (POLLIN/POLLOUT) are ready on `host_fd`.
    // False, and not armed, if a cancel was asked for: checked under the lock remove() takes,
    // so a cancel either finds it armed or is seen here. Once armed, `req` is the reactor's
    // (it may complete and be reused at once): the caller must not touch it again.
    [[nodiscard]] bool arm(Request* req, int host_fd, uint32_t events);
    // True if `req` was parked and is now removed (the caller completes it).
    bool remove(Request* req);
    size_t armed() const;

  private:
    struct Waiter {
        Request* req;
        uint32_t events;
    };
    void loop();
    void update_locked(int host_fd);

    Ready on_ready_;
    int epfd_ = -1;
    int wake_fd_ = -1;
    mutable std::mutex mutex_;
    std::unordered_map<int, std::vector<Waiter>> waiters_;
    std::unordered_map<Request*, int> where_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace toyos::iouring
