// Small userland conveniences over toyos::sys: write strings and numbers to an fd without
// heap memory (the kernel only accepts the program's own memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "toyos/sys.h"

namespace toyos::io {

// Writes all of buf, retrying short writes. Returns count or -errno.
ssize_t write_all(int fd, const void* buf, size_t count);
ssize_t puts(int fd, const char* s);  // no newline added

// printf-style formatting into a stack buffer, then write_all. Output is truncated at 4 KiB.
ssize_t printf(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// "Error text" for a -errno result (strerror's words).
const char* error_text(long negative_errno);

}  // namespace toyos::io
