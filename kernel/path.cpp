#include "kernel/path.h"

namespace toyos::kernel {

std::vector<std::string> lexical_components(const std::string& path) {
    std::vector<std::string> comps;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        std::string c = path.substr(i, j - i);
        if (c == "..") {
            if (!comps.empty()) comps.pop_back();
        } else if (!c.empty() && c != ".") {
            comps.push_back(std::move(c));
        }
        i = j + 1;
    }
    return comps;
}

std::optional<std::vector<std::string>> components_under(const std::string& mount,
                                                         const std::string& path) {
    std::vector<std::string> comps = lexical_components(path);
    if (comps.empty() || comps[0] != mount) return std::nullopt;
    comps.erase(comps.begin());
    return comps;
}

std::optional<std::string> path_after_leaving(const std::string& mount, const std::string& path) {
    // The first real component (after "/" and "./") must be the mount itself.
    size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/')
            ++i;
        else if (path.compare(i, 2, "./") == 0)
            i += 2;
        else
            break;
    }
    if (path.compare(i, mount.size(), mount) != 0 ||
        (i + mount.size() < path.size() && path[i + mount.size()] != '/'))
        return std::nullopt;
    if (components_under(mount, path)) return std::nullopt;  // still inside
    std::string out;
    for (const std::string& c : lexical_components(path)) out += "/" + c;
    return out.empty() ? "/" : out;
}

}  // namespace toyos::kernel
