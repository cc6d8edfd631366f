// Kernel logging through spdlog. The level comes from --log-level or TOYOS_LOG_LEVEL
// (trace, debug, info, warn, error, critical, off); the default is warn.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace toyos::kernel {

// Returns false if `level` is not a level name.
bool init_logging(const std::string& level);
std::string log_level_from_env(const std::string& fallback);

}  // namespace toyos::kernel
