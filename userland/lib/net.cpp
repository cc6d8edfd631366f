#include "toyos/net.h"

#include <arpa/inet.h>

#include <cstring>

namespace toyos::net {

bool parse_ipv4(const char* text, in_addr* out) {
    if (std::strcmp(text, "localhost") == 0) text = "127.0.0.1";
    return ::inet_pton(AF_INET, text, out) == 1;
}

int parse_port(const char* text) {
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < 1 || v > 65535) return -1;
    return static_cast<int>(v);
}

}  // namespace toyos::net
