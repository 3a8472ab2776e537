// The cooperative stdio reads that bytes and wide characters share (stdio_hooks.cpp,
// stdio_wide_hooks.cpp), written once over a traits type T that each file supplies: T::Char,
// T::Int, T::kEnd (EOF / WEOF), T::peek (the next character without taking it, waiting for a
// refill) and T::take_line (buffered characters up to a newline).
#pragma once

#include <errno.h>
#include <stdio.h>

#include <cstddef>

#include "stdio_call.hpp"
#include "stdio_lock.hpp"

namespace green::hooks::stdio {

// fgetc / fgetwc: wait for the refill, then libc's own call (which then cannot read).
template <class T, class Real>
typename T::Int getc_fiber(const Call& k, FILE* f, Real real) {
    Locked lock(k.c, f);
    if (T::peek(k, f) == T::kEnd) return T::kEnd;
    return real(f);
}

// fgets / fgetws (and their fortified forms): up to n - 1 characters, to the first newline.
// As glibc's: an error seen before this call does not fail it; one seen during it does.
template <class T>
typename T::Char* gets_fiber(const Call& k, typename T::Char* s, int n, FILE* f) {
    if (n <= 0) return nullptr;
    if (n == 1) {
        s[0] = 0;
        return s;
    }
    Locked lock(k.c, f);
    const int old_error = f->_flags & _IO_ERR_SEEN;
    f->_flags &= ~_IO_ERR_SEEN;
    const std::size_t want = static_cast<std::size_t>(n) - 1;
    std::size_t count = 0;
    bool found = false;
    while (count < want && !found && T::peek(k, f) != T::kEnd)
        count += T::take_line(f, s + count, want - count, &found);
    typename T::Char* r = nullptr;
    if (count != 0 && !((f->_flags & _IO_ERR_SEEN) && errno != EAGAIN)) {
        s[count] = 0;
        r = s;
    }
    f->_flags |= old_error;
    return r;
}

}  // namespace green::hooks::stdio
