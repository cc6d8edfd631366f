#include "kernel/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

namespace toyos::kernel {

bool init_logging(const std::string& level) {
    auto lvl = spdlog::level::from_str(level);
    if (lvl == spdlog::level::off && level != "off") return false;
    static std::once_flag once;
    std::call_once(once, [] {
        auto logger = spdlog::stderr_color_mt("toyos");
        logger->set_pattern("[%H:%M:%S.%e] [toyos] [%^%l%$] %v");
        spdlog::set_default_logger(logger);
    });
    spdlog::set_level(lvl);
    return true;
}

std::string log_level_from_env(const std::string& fallback) {
    const char* env = std::getenv("TOYOS_LOG_LEVEL");
    return env != nullptr && *env != '\0' ? env : fallback;
}

}  // namespace toyos::kernel
