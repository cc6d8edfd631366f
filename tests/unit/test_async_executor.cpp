#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "kernel/async_executor.h"

using namespace toyos::kernel;

namespace {

TEST(AsyncSyscallExecutor, TicketsCarryTheirResults) {
    AsyncSyscallExecutor pool(3, 1024);
    std::vector<Ticket> tickets;
    for (long i = 0; i < 500; ++i) tickets.push_back(pool.submit([i] { return i * 3; }).value());
    for (long i = 0; i < 500; ++i) EXPECT_EQ(tickets[i].wait().value(), i * 3);
    // A worker counts a job just after its ticket is signalled: give the last one a moment.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (pool.completed() < 500u && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    EXPECT_EQ(pool.completed(), 500u);
}

TEST(AsyncSyscallExecutor, PollBeforeAndAfter) {
    AsyncSyscallExecutor pool(1, 16);
    std::atomic<bool> go{false};
    Ticket t = pool.submit([&] {
                       while (!go.load()) std::this_thread::yield();
                       return 7L;
                   })
                   .value();
    EXPECT_FALSE(t.poll().has_value());
    go = true;
    EXPECT_EQ(t.wait().value(), 7);
    EXPECT_EQ(t.poll().value(), 7);
}

TEST(AsyncSyscallExecutor, FullQueueIsEagain) {
    AsyncSyscallExecutor pool(1, 4);
    std::atomic<bool> go{false};
    std::vector<Ticket> held;
    int refused = 0;
    for (int i = 0; i < 64; ++i) {
        auto t = pool.submit([&] {
            while (!go.load()) std::this_thread::yield();
            return 0L;
        });
        if (t.is_error()) {
            EXPECT_EQ(t.error(), EAGAIN);
            ++refused;
        } else {
            held.push_back(t.value());
        }
    }
    EXPECT_GT(refused, 0);
    go = true;
    for (auto& t : held) EXPECT_EQ(t.wait().value(), 0);
}

}  // namespace
