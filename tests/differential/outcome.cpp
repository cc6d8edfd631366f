// Comparing two outcomes: the host's is the reference.
#include <algorithm>
#include <sstream>

#include "outcome.h"

namespace toyos::diff {
namespace {

std::string show(const CqeRecord& c) {
    std::ostringstream s;
    s << "{user_data " << c.user_data << ", res " << (c.res_is_fd && c.res >= 0 ? "fd" : "")
      << (c.res_is_fd && c.res >= 0 ? "" : std::to_string(c.res)) << ", flags 0x" << std::hex
      << c.flags << "}";
    return s.str();
}

bool same(const CqeRecord& a, const CqeRecord& b) {
    if (a.user_data != b.user_data || a.flags != b.flags) return false;
    if (a.res_is_fd || b.res_is_fd) return (a.res >= 0 && b.res >= 0) || a.res == b.res;
    return a.res == b.res;
}

std::string show(const std::vector<CqeRecord>& cqes) {
    std::string out;
    for (const CqeRecord& c : cqes) out += " " + show(c);
    return out.empty() ? " (none)" : out;
}

void compare_step(const Step& h, const Step& t, std::ostringstream& out) {
    std::vector<CqeRecord> hc = h.cqes, tc = t.cqes;
    if (!h.ordered) {
        // No order guaranteed: compare as sets keyed by user_data.
        auto by_user_data = [](const CqeRecord& a, const CqeRecord& b) {
            return a.user_data < b.user_data;
        };
        std::stable_sort(hc.begin(), hc.end(), by_user_data);
        std::stable_sort(tc.begin(), tc.end(), by_user_data);
    }
    const bool equal = hc.size() == tc.size() && std::equal(hc.begin(), hc.end(), tc.begin(), same);
    if (!equal)
        out << "step \"" << h.what << "\"" << (h.ordered ? " (ordered)" : "")
            << ":\n  host: " << show(h.cqes) << "\n  toyos:" << show(t.cqes) << "\n";
}

}  // namespace

std::string differences(const Outcome& host, const Outcome& toy) {
    std::ostringstream out;
    const size_t steps = std::max(host.steps.size(), toy.steps.size());
    for (size_t i = 0; i < steps; ++i) {
        if (i >= host.steps.size() || i >= toy.steps.size()) {
            out << "step " << i << " exists on " << (i < host.steps.size() ? "host" : "toyos")
                << " only\n";
            continue;
        }
        compare_step(host.steps[i], toy.steps[i], out);
    }
    const size_t facts = std::max(host.facts.size(), toy.facts.size());
    for (size_t i = 0; i < facts; ++i) {
        const std::string h = i < host.facts.size() ? host.facts[i] : "(none)";
        const std::string t = i < toy.facts.size() ? toy.facts[i] : "(none)";
        if (h != t) out << "fact " << i << ":\n  host:  " << h << "\n  toyos: " << t << "\n";
    }
    return out.str();
}

std::string describe(const Outcome& o) {
    std::ostringstream out;
    for (const Step& s : o.steps)
        out << "step \"" << s.what << "\"" << (s.ordered ? " (ordered)" : "") << ":" << show(s.cqes)
            << "\n";
    for (const std::string& f : o.facts) out << "fact " << f << "\n";
    for (const std::string& f : o.failures) out << "FAILURE " << f << "\n";
    return out.str();
}

}  // namespace toyos::diff
