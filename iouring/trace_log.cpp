#include "iouring/trace_log.h"

#include <cerrno>
#include <cstdio>

#include "iouring/ops/op_def.h"
#include "iouring/request.h"

namespace toyos::iouring {

void TraceLog::absorb(pid_t pid, const std::string& process_name,
                      std::vector<TraceEvent>&& events) {
    std::lock_guard lock(mutex_);
    names_.emplace(pid, process_name);
    events_.insert(events_.end(), events.begin(), events.end());
    events.clear();
}

size_t TraceLog::size() const {
    std::lock_guard lock(mutex_);
    return events_.size();
}

bool TraceLog::write(const std::string& path) const {
    std::lock_guard lock(mutex_);
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return false;
    std::fprintf(f, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    bool first = true;
    for (const auto& [pid, name] : names_) {
        // Process names for the viewer; program names are plain identifiers.
        std::fprintf(f,
                     "%s{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":{\"name\":\"",
                     first ? "" : ",\n", pid);
        for (char c : name) {
            if (c == '"' || c == '\\') std::fputc('\\', f);
            if (static_cast<unsigned char>(c) >= 0x20) std::fputc(c, f);
        }
        std::fprintf(f, "\"}}");
        first = false;
    }
    for (const TraceEvent& e : events_) {
        const char* op = opcode_name(e.opcode);
        const uint64_t start = e.submit_ns > epoch_ns_ ? e.submit_ns - epoch_ns_ : 0;
        const uint64_t dur = e.complete_ns > e.submit_ns ? e.complete_ns - e.submit_ns : 0;
        std::fprintf(f,
                     "%s{\"ph\":\"X\",\"cat\":\"io_uring\",\"name\":\"%s\",\"pid\":%d,\"tid\":%d,"
                     "\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"ring\":%d,\"opcode\":%u,\"seq\":%llu,"
                     "\"user_data\":%llu,\"res\":%d,\"latency_ns\":%llu}}",
                     first ? "" : ",\n", op != nullptr ? op : "UNKNOWN", e.pid, e.ring,
                     static_cast<double>(start) / 1000.0, static_cast<double>(dur) / 1000.0, e.ring,
                     e.opcode, static_cast<unsigned long long>(e.seq),
                     static_cast<unsigned long long>(e.user_data), e.res,
                     static_cast<unsigned long long>(dur));
        first = false;
    }
    std::fprintf(f, "\n]}\n");
    const bool ok = std::ferror(f) == 0;
    return std::fclose(f) == 0 && ok;
}

}  // namespace toyos::iouring
