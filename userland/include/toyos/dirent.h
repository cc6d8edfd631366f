// The record format sys::getdents64 fills in: Linux's struct linux_dirent64.
#pragma once

#include <cstdint>

namespace toyos {

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[1];  // NUL-terminated; the record is d_reclen bytes long
};

}  // namespace toyos
