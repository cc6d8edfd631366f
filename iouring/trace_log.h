// TraceLog: every operation's submission and completion, for `toyos run --trace FILE`.
// Rings record their own events (under the ring's lock, so no global lock per operation) and
// hand them over when they close; the log writes Chrome trace-event JSON (Perfetto opens it):
// one complete ("X") event per operation, pid = toy pid, tid = ring id.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace toyos::iouring {

struct TraceEvent {
    uint64_t submit_ns = 0;
    uint64_t complete_ns = 0;
    uint64_t seq = 0;
    uint64_t user_data = 0;
    int32_t res = 0;
    int32_t ring = 0;
    pid_t pid = 0;
    uint8_t opcode = 0;
};

class TraceLog {
  public:
    explicit TraceLog(uint64_t epoch_ns) : epoch_ns_(epoch_ns) {}
    void absorb(pid_t pid, const std::string& process_name, std::vector<TraceEvent>&& events);
    size_t size() const;
    // Writes the JSON; false with errno set if the file cannot be written.
    bool write(const std::string& path) const;

  private:
    const uint64_t epoch_ns_;
    mutable std::mutex mutex_;
    std::vector<TraceEvent> events_;
    std::map<pid_t, std::string> names_;
};

}  // namespace toyos::iouring
