// What the cooperative stdio hooks share, byte and wide alike (stdio_hooks.cpp,
// stdio_wide_hooks.cpp): which calls take the fiber path, glibc's FILE flags they read, and the
// waits around a refill or a write.
#pragma once

#include <stdarg.h>
#include <stdio.h>

#include "hook_common.hpp"
#include "sync_table.hpp"

namespace green::hooks::stdio {

// glibc's FILE flags (libio.h) beside the two <stdio.h> names (_IO_EOF_SEEN, _IO_ERR_SEEN).
constexpr int kUnbuffered = 0x0002;
constexpr int kNoReads = 0x0004;
constexpr int kInBackup = 0x0100;
constexpr int kLineBuf = 0x0200;
constexpr int kPutting = 0x0800;

// A stdio call on the fiber path: the calling fiber, f's descriptor, and whether that
// descriptor can block (else only the per-fiber lock is needed: some fiber holds it).
struct Call {
    sync::FiberCtx c;
    int fd = -1;
    bool waits = false;
    explicit operator bool() const noexcept { return c.hub != nullptr; }
};

// The fiber path for a call on f, a byte call (wide false) or a wide one; empty (libc's own
// call) outside a fiber, on a stream oriented the other way, and on a descriptor that cannot
// block while no fiber holds f's lock.
GREEN_HOOK_INTERNAL Call call_for_stream(FILE* f, bool wide) noexcept;

// Waits until a write to k.fd cannot block; false (the stream's error flag set, errno from the
// wait) when the wait failed, as the write would have.
GREEN_HOOK_INTERNAL bool writable(const Call& k, FILE* f);

GREEN_HOOK_INTERNAL int real_fflush(FILE* f);

// Refills f's buffer with underflow (glibc's __underflow or __wunderflow, which read the
// descriptor once when it is empty) once that read cannot block, and returns its result. A wait
// that fails (EINTR from a handler without SA_RESTART, EBADF: closed meanwhile) is the read's
// error, as natively: `eof`, with the stream's error flag.
template <class Int, class Underflow>
Int refill_when_readable(const Call& k, FILE* f, Int eof, Underflow underflow) {
    Int c = eof;
    auto refill = [&]() -> long {
        const int had_error = f->_flags & _IO_ERR_SEEN;
        f->_flags &= ~_IO_ERR_SEEN;
        c = underflow(f);
        const bool failed = c == eof && (f->_flags & _IO_ERR_SEEN);
        f->_flags |= had_error;
        return failed ? -1 : 0;
    };
    if (when_ready(k.fd, POLLIN, refill) < 0) {
        f->_flags |= _IO_ERR_SEEN;
        return eof;
    }
    return c;
}

// A v*scanf entry point, byte or wide: libc's own parse where f is not on the fiber path, else
// the family's cooperative parse (`scan`: scanf_fiber, wscanf_fiber) around libc's.
template <class Real, class Char, class Scan>
int scan_entry(Real real, FILE* f, const Char* fmt, va_list ap, Scan scan) {
    const Call k = call_for_stream(f, sizeof(Char) != 1);
    if (!k) return real ? real(f, fmt, ap) : EOF;
    return scan(k, f, [&](FILE* via) { return real(via, fmt, ap); });
}

}  // namespace green::hooks::stdio
