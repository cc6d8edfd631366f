// Lexical path handling for the kernel's own mounts (/proc, /dev), which no host directory
// backs: "." is dropped and ".." removes the previous component, stopping at "/".
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace toyos::kernel {

std::vector<std::string> lexical_components(const std::string& path);

// The components below /MOUNT (e.g. "proc") of `path`, or nullopt if it is not under it.
std::optional<std::vector<std::string>> components_under(const std::string& mount,
                                                         const std::string& path);

// A path that enters /MOUNT and leaves it again with ".." ("/proc/../a"): what is left of it,
// for the VFS (which cannot walk through a directory it does not have). nullopt otherwise.
std::optional<std::string> path_after_leaving(const std::string& mount, const std::string& path);

}  // namespace toyos::kernel
