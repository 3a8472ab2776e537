// dprintf and vdprintf, and their _FORTIFY_SOURCE forms. glibc writes their text through an
// internal stream no hook reaches, so a descriptor that would block (a full pipe) would block the
// hub. From a fiber the text is formatted first (vasprintf, or __vasprintf_chk with glibc's
// fortified checks), then written with the write hook, which waits cooperatively. As glibc's:
// a short write is continued, a failed one fails the call (-1, write's errno) after whatever went
// out, and empty text writes nothing.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hook_common.hpp"

extern "C" {
int __vasprintf_chk(char**, int, const char*, va_list);
int __vdprintf_chk(int, int, const char*, va_list);
int __dprintf_chk(int, int, const char*, ...);
}

namespace green::hooks {

namespace {

// `flag` < 0: vdprintf's formatting; else __vdprintf_chk's.
int vdprintf_fiber(int fd, int flag, const char* fmt, va_list ap) {
    char* text = nullptr;
    const int n = flag < 0 ? vasprintf(&text, fmt, ap) : __vasprintf_chk(&text, flag, fmt, ap);
    if (n < 0) return -1;
    std::size_t done = 0;
    int r = n;
    while (done < static_cast<std::size_t>(n)) {
        const ssize_t w = ::write(fd, text + done, static_cast<std::size_t>(n) - done);
        if (w < 0) {
            r = -1;
            break;
        }
        done += static_cast<std::size_t>(w);
    }
    const int e = errno;
    free(text);
    errno = e;
    return r;
}

}  // namespace

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

int vdprintf(int fd, const char* fmt, va_list ap) {
    if (!route(Need::Io)) {
        auto real = GREEN_REAL(vdprintf);
        return real ? real(fd, fmt, ap) : -1;
    }
    return vdprintf_fiber(fd, -1, fmt, ap);
}

int dprintf(int fd, const char* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, vdprintf(fd, fmt, ap));
}

int __vdprintf_chk(int fd, int flag, const char* fmt, va_list ap) {
    if (!route(Need::Io)) {
        auto real = GREEN_REAL(__vdprintf_chk);
        return real ? real(fd, flag, fmt, ap) : -1;
    }
    return vdprintf_fiber(fd, flag, fmt, ap);
}

int __dprintf_chk(int fd, int flag, const char* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, __vdprintf_chk(fd, flag, fmt, ap));
}

}  // extern "C"
