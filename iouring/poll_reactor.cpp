#include "iouring/poll_reactor.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "iouring/request.h"
#include "iouring/ring_closer.h"

namespace toyos::iouring {

PollReactor::PollReactor(Ready on_ready) : on_ready_(std::move(on_ready)) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    thread_ = std::thread([this] { loop(); });
}

PollReactor::~PollReactor() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof(one));
    thread_.join();
    ::close(wake_fd_);
    ::close(epfd_);
}

// Re-registers `host_fd` for the union of its waiters' events (one-shot), or drops it.
void PollReactor::update_locked(int host_fd) {
    auto it = waiters_.find(host_fd);
    if (it == waiters_.end()) return;
    if (it->second.empty()) {
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, host_fd, nullptr);
        waiters_.erase(it);
        return;
    }
    uint32_t events = 0;
    for (const auto& w : it->second) events |= w.events;
    epoll_event ev{};
    ev.events = events | EPOLLONESHOT;
    ev.data.fd = host_fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, host_fd, &ev) < 0 && errno == ENOENT)
        ::epoll_ctl(epfd_, EPOLL_CTL_ADD, host_fd, &ev);
}

bool PollReactor::arm(Request* req, int host_fd, uint32_t events) {
    std::lock_guard lock(mutex_);
    // seq_cst: pairs with ThreadExecutor::cancel() (a store-buffering pattern, not a handoff).
    if (req->cancel_requested.load(std::memory_order_seq_cst)) return false;
    waiters_[host_fd].push_back(Waiter{req, events});
    where_[req] = host_fd;
    update_locked(host_fd);
    return true;
}

bool PollReactor::remove(Request* req) {
    std::lock_guard lock(mutex_);
    auto w = where_.find(req);
    if (w == where_.end()) return false;
    const int fd = w->second;
    where_.erase(w);
    auto& list = waiters_[fd];
    list.erase(
        std::remove_if(list.begin(), list.end(), [&](const Waiter& x) { return x.req == req; }),
        list.end());
    update_locked(fd);
    return true;
}

size_t PollReactor::armed() const {
    std::lock_guard lock(mutex_);
    return where_.size();
}

void PollReactor::loop() {
    const RingTeardownDeferral deferral;
    epoll_event events[64];
    std::vector<Request*> ready;
    for (;;) {
        int n = ::epoll_wait(epfd_, events, 64, -1);
        if (n < 0 && errno != EINTR) return;
        ready.clear();
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            for (int i = 0; i < n; ++i) {
                const int fd = events[i].data.fd;
                if (fd == wake_fd_) continue;
                uint32_t got = events[i].events;
                auto it = waiters_.find(fd);
                if (it == waiters_.end()) continue;
                // Errors and hangups wake everyone: the retry reports them.
                if (got & (EPOLLERR | EPOLLHUP)) got |= POLLIN | POLLOUT;
                auto& list = it->second;
                for (auto w = list.begin(); w != list.end();) {
                    if (w->events & got) {
                        ready.push_back(w->req);
                        where_.erase(w->req);
                        w = list.erase(w);
                    } else {
                        ++w;
                    }
                }
                update_locked(fd);
            }
        }
        for (Request* r : ready) on_ready_(r);
    }
}

}  // namespace toyos::iouring
