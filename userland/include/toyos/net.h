// Small socket helpers for userland programs: parse an IPv4 address and port.
#pragma once

#include <netinet/in.h>

#include <cstdlib>

namespace toyos::net {

// "127.0.0.1" or "localhost" -> s_addr in network order; false if it is not dotted IPv4.
bool parse_ipv4(const char* text, in_addr* out);
// A port 1..65535, or -1.
int parse_port(const char* text);

}  // namespace toyos::net
