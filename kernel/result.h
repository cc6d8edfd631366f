// Result<T>: a value or an errno. Every kernel operation that can fail returns one, so that a
// syscall validates first and hands userland a plain -errno, never an exception or a crash.
#pragma once

#include <cassert>
#include <cerrno>
#include <type_traits>
#include <utility>

namespace toyos::kernel {

struct Errno {
    int value;
};

inline Errno err(int e) {
    return Errno{e};
}

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Result(Errno e) : error_(e.value) { assert(e.value > 0); }  // NOLINT

    bool ok() const { return error_ == 0; }
    bool is_error() const { return error_ != 0; }
    int error() const { return error_; }
    T& value() & {
        assert(ok());
        return value_;
    }
    T&& value() && {
        assert(ok());
        return std::move(value_);
    }
    const T& value() const& {
        assert(ok());
        return value_;
    }
    T* operator->() { return &value(); }
    T& operator*() { return value(); }

  private:
    T value_{};
    int error_ = 0;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Errno e) : error_(e.value) { assert(e.value > 0); }  // NOLINT
    bool ok() const { return error_ == 0; }
    bool is_error() const { return error_ != 0; }
    int error() const { return error_; }

  private:
    int error_ = 0;
};

// A syscall's result: >= 0, or an errno that the gate turns into -errno.
using SysResult = Result<long>;

// Unix convention for a host call: -1 with errno set becomes Errno.
inline Result<long> host_result(long r) {
    if (r < 0) return Errno{errno};
    return r;
}

}  // namespace toyos::kernel

// TRY(expr): evaluate a Result, return its error from the enclosing function, else yield the
// value. (GNU statement expression; g++ and clang both have it.)
#define TOYOS_TRY(expr)                                                                   \
    __extension__({                                                                       \
        auto&& toyos_try_r_ = (expr);                                                     \
        if (toyos_try_r_.is_error()) return ::toyos::kernel::Errno{toyos_try_r_.error()}; \
        std::move(toyos_try_r_).value();                                                  \
    })
#define TOYOS_TRY_VOID(expr)                                                              \
    do {                                                                                  \
        auto&& toyos_try_r_ = (expr);                                                     \
        if (toyos_try_r_.is_error()) return ::toyos::kernel::Errno{toyos_try_r_.error()}; \
    } while (0)
