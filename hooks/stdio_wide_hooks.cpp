// Wide-character stdio on pipes, sockets, FIFOs and terminals, cooperative, as stdio_hooks.cpp
// does for bytes. A wide stream keeps a buffer of wide characters (glibc's struct
// _IO_wide_data) in front of its byte buffer. A read that finds the wide buffer empty reads into
// the byte buffer itself, after POLLIN each time, until it holds a whole character (a writer may
// cut one in two), then lets __wunderflow convert it without reading (fgetwc and fgetws share
// the byte calls' code, stdio_read.hpp); the wscanf family parses on a helper thread. A write
// reaches libc in pieces that make at most one flush, of at most PIPE_BUF bytes, after POLLOUT:
// the pending wide characters are limited to what converts into one pipe buffer (PIPE_BUF /
// MB_CUR_MAX). fwprintf formats into a wide memory stream first. Results, flags, errno and
// orientation are libc's; byte-oriented streams go straight to libc (which fails the call).
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <wchar.h>

#include <algorithm>

#include "kernel_lock_wait.hpp"
#include "stdio_call.hpp"
#include "stdio_lock.hpp"
#include "stdio_read.hpp"

// glibc's exported helpers of the wide getwc/putwc macros, and the fortified entry points of
// the wide calls hooked here (<wchar.h> declares none of them).
extern "C" {
wint_t __wunderflow(FILE*);
wint_t __wuflow(FILE*);
void _IO_doallocbuf(FILE*);
void _IO_wdoallocbuf(FILE*);
int __vfwprintf_chk(FILE*, int, const wchar_t*, va_list);
int __fwprintf_chk(FILE*, int, const wchar_t*, ...);
int __isoc99_fwscanf(FILE*, const wchar_t*, ...);
int __isoc99_wscanf(const wchar_t*, ...);
int __isoc99_vfwscanf(FILE*, const wchar_t*, va_list);
int __isoc99_vwscanf(const wchar_t*, va_list);
int __vwprintf_chk(int, const wchar_t*, va_list);
int __wprintf_chk(int, const wchar_t*, ...);
wchar_t* __fgetws_chk(wchar_t*, size_t, int, FILE*);
}

namespace green::hooks::stdio {

namespace {

// The head of glibc's struct _IO_wide_data (libio.h; the same pointers as FILE's, in the same
// order, since glibc 2.2): the wide buffer's get and put areas.
struct WideBuffer {
    wchar_t* read_ptr;
    wchar_t* read_end;
    wchar_t* read_base;
    wchar_t* write_base;
    wchar_t* write_ptr;
    wchar_t* write_end;
    wchar_t* buf_base;
    wchar_t* buf_end;
};

WideBuffer& wide(FILE* f) noexcept {
    return *reinterpret_cast<WideBuffer*>(f->_wide_data);
}

Call call_for(FILE* f) noexcept {
    return call_for_stream(f, true);
}

// ---- reading --------------------------------------------------------------------------------

// Whether f's byte buffer ends in a character cut short (and holds nothing else: the
// conversion into the wide buffer takes all the rest). The stream's conversion state is taken as
// the initial one, and the current locale as the one the stream took when it was oriented.
bool partial_char(const FILE* f) noexcept {
    if (f->_IO_read_ptr >= f->_IO_read_end) return false;
    mbstate_t st{};
    wchar_t wc;
    return mbrtowc(&wc, f->_IO_read_ptr, f->_IO_read_end - f->_IO_read_ptr, &st) ==
           static_cast<size_t>(-2);
}

// Reads into f's byte buffer, each read once it cannot block, until what it holds starts with a
// whole character (or an invalid sequence), the end of file or a full buffer: what __wunderflow
// then converts without reading (glibc's own reads there would block while a character is cut
// short). The buffers are glibc's own, allocated and laid out as glibc's wide refill does. false:
// the read failed (the stream's error flag set, errno from read), as natively.
bool fill_bytes(const Call& k, FILE* f) {
    fwide(f, 1);  // as __wunderflow orients, before its conversion into the wide buffer
    if (!f->_IO_buf_base) _IO_doallocbuf(f);
    if (!wide(f).buf_base) _IO_wdoallocbuf(f);
    const std::size_t kept =
        f->_IO_read_ptr < f->_IO_read_end ? f->_IO_read_end - f->_IO_read_ptr : 0;
    if (kept != 0) memmove(f->_IO_buf_base, f->_IO_read_ptr, kept);
    f->_IO_read_base = f->_IO_read_ptr = f->_IO_buf_base;
    f->_IO_read_end = f->_IO_buf_base + kept;
    while (f->_IO_read_end < f->_IO_buf_end) {
        char* const at = f->_IO_read_end;
        const std::size_t room = f->_IO_buf_end - at;
        const long r = when_ready(
            k.fd, POLLIN, [&] { return GREEN_REAL_OR_SYSCALL(read, SYS_read, k.fd, at, room); });
        if (r < 0) {
            f->_flags |= _IO_ERR_SEEN;
            return false;
        }
        if (r == 0) break;  // __wunderflow's own read finds the end of file again
        f->_IO_read_end += r;
        if (f->_offset != -1) f->_offset += r;
        if (!partial_char(f)) break;
    }
    return true;
}

// The next wide character without taking it (a refill when the buffer is empty), or WEOF with
// libc's flags and errno. __wunderflow reads nothing when the end of file is sticky, the stream
// cannot read, ungetwc's backup area is in use, or the byte buffer holds a whole character; a
// stream in write mode flushes first and then reads once (after the wait).
wint_t wpeek(const Call& k, FILE* f) {
    if (f->_mode > 0 && wide(f).read_ptr < wide(f).read_end) return *wide(f).read_ptr;
    if (!k.waits || (f->_flags & (_IO_EOF_SEEN | kNoReads | kInBackup)) ||
        (f->_IO_read_ptr < f->_IO_read_end && !partial_char(f)))
        return __wunderflow(f);
    if (f->_flags & kPutting) return refill_when_readable(k, f, WEOF, __wunderflow);
    if (!fill_bytes(k, f)) return WEOF;
    return __wunderflow(f);
}

// Takes up to n buffered wide characters, up to and including the first newline, into out.
std::size_t wtake_line(FILE* f, wchar_t* out, std::size_t n, bool* found) noexcept {
    WideBuffer& w = wide(f);
    std::size_t len = std::min<std::size_t>(n, w.read_end - w.read_ptr);
    if (const wchar_t* nl = wmemchr(w.read_ptr, L'\n', len)) {
        len = nl - w.read_ptr + 1;
        *found = true;
    }
    wmemcpy(out, w.read_ptr, len);
    w.read_ptr += len;
    return len;
}

// The traits of the shared reads (stdio_read.hpp) for wide characters.
struct Wide {
    using Char = wchar_t;
    using Int = wint_t;
    static constexpr wint_t kEnd = WEOF;
    static wint_t peek(const Call& k, FILE* f) { return wpeek(k, f); }
    static std::size_t take_line(FILE* f, wchar_t* out, std::size_t n, bool* found) noexcept {
        return wtake_line(f, out, n, found);
    }
};

// The wscanf family. glibc's wide parser cannot read through a stream of ours as the byte one
// does (fopencookie streams are byte-only, and an oriented wide stream reads its descriptor
// directly), so it parses f itself on a helper OS thread (kernel_lock_wait.hpp) while the fiber
// waits: every refill the conversion needs blocks the helper only, and results, flags, errno and
// pushback are libc's by construction. This thread keeps f's lock (other threads stay out) and
// marks f _IO_USER_LOCK meanwhile, so that the helper's parse does not take it again; the helper
// uses the caller's locale. A signal handled without SA_RESTART ends the helper's read with
// EINTR, as natively. Without a helper (the program handles the helper's wake-up signal) the
// parse runs here, blocking the hub while it waits for input.
constexpr int kUserLock = 0x8000;

template <class Real>
int wscanf_fiber(const Call& k, FILE* f, Real real) {
    Locked lock(k.c, f);
    if (!k.waits) return real(f);
    const locale_t loc = uselocale(static_cast<locale_t>(0));
    int r = EOF;
    bool parsed = false;
    const int had_user_lock = f->_flags & kUserLock;
    f->_flags |= kUserLock;
    int unused = 0;
    const bool ran = kernel_lock_wait(
        [&] {
            uselocale(loc);
            r = real(f);
            parsed = true;
            return 0;  // never -1: the helper must not run the parse again
        },
        unused);
    f->_flags = (f->_flags & ~kUserLock) | had_user_lock;
    if (!ran) return real(f);
    // A signal that came before the helper began: the parse's first read was interrupted, as
    // it would have been natively (errno is EINTR).
    if (!parsed) f->_flags |= _IO_ERR_SEEN;
    return r;
}

// ---- writing --------------------------------------------------------------------------------

wint_t real_fputwc(wchar_t c, FILE* f) {
    auto real = GREEN_REAL(fputwc);
    return real ? real(c, f) : WEOF;
}

// Hands n wide characters (NULs included) to libc's fputws/fputwc; false when libc failed.
bool real_put(FILE* f, const wchar_t* p, std::size_t n) {
    constexpr std::size_t kChunk = 256;
    wchar_t chunk[kChunk + 1];
    auto real_fputws = GREEN_REAL(fputws);
    if (!real_fputws) return false;
    while (n > 0) {
        if (*p == L'\0') {
            if (real_fputwc(L'\0', f) == WEOF) return false;
            ++p;
            --n;
            continue;
        }
        std::size_t len = std::min(n, kChunk);
        if (const wchar_t* z = wmemchr(p, L'\0', len)) len = z - p;
        wmemcpy(chunk, p, len);
        chunk[len] = L'\0';
        if (real_fputws(chunk, f) < 0) return false;
        p += len;
        n -= len;
    }
    return true;
}

// Writes n wide characters through f as libc would; returns how many went (fewer: failed, with
// libc's error flag and errno). As put() in stdio_hooks.cpp, each piece handed to libc flushes
// at most once, after a wait for POLLOUT: what is pending first when the piece would take the
// pending characters past what one pipe buffer holds converted, a line-buffered piece ends at
// its first newline, an unbuffered one is at most that much.
std::size_t wput(const Call& k, FILE* f, const wchar_t* p, std::size_t n) {
    if (!k.waits) return real_put(f, p, n) ? n : 0;
    const std::size_t budget = std::max<std::size_t>(1, PIPE_BUF / MB_CUR_MAX);
    std::size_t done = 0;
    while (done < n) {
        const std::size_t rest = n - done;
        const WideBuffer& w = wide(f);
        std::size_t piece = 1;
        bool writes = false;
        if (f->_flags & kUnbuffered) {
            piece = std::min(rest, budget);
            writes = true;
        } else if (f->_mode <= 0 || !(f->_flags & kPutting) || !w.buf_base) {
            // One character sets up the put area (orientation, allocation, or leaving read
            // mode) and writes nothing unless it ends a line.
            writes = (f->_flags & kLineBuf) && p[done] == L'\n';
        } else {
            const std::size_t pending = w.write_ptr - w.write_base;
            const std::size_t room = w.buf_end - w.write_ptr;
            if (pending >= budget || room == 0) {
                if (!writable(k, f) || real_fflush(f) != 0) return done;
                continue;
            }
            piece = std::min({rest, budget - pending, room});
            if (f->_flags & kLineBuf)
                if (const wchar_t* nl = wmemchr(p + done, L'\n', piece)) {
                    piece = nl - (p + done) + 1;
                    writes = true;
                }
        }
        if (writes && !writable(k, f)) return done;
        if (!real_put(f, p + done, piece)) break;
        done += piece;
    }
    return done;
}

// `flag` < 0: vfwprintf's formatting; else __vfwprintf_chk's (glibc's fortified checks). The
// text is formatted into a wide memory stream, then written; when formatting fails part way,
// what it produced is still written, as libc's stream would have it, and the call fails.
int vfwprintf_fiber(const Call& k, FILE* f, int flag, const wchar_t* fmt, va_list ap) {
    wchar_t* text = nullptr;
    size_t len = 0;
    auto real_vfwprintf = GREEN_REAL(vfwprintf);
    auto real_chk = GREEN_REAL(__vfwprintf_chk);
    FILE* mem = real_vfwprintf && real_chk ? open_wmemstream(&text, &len) : nullptr;
    if (!mem) return -1;
    const int n = flag < 0 ? real_vfwprintf(mem, fmt, ap) : real_chk(mem, flag, fmt, ap);
    const int e = errno;
    auto real_fclose = GREEN_REAL(fclose);
    if (!real_fclose || real_fclose(mem) != 0) {
        free(text);
        return -1;
    }
    std::size_t w;
    {
        Locked lock(k.c, f);
        fwide(f, 1);
        w = wput(k, f, text, len);
    }
    free(text);
    if (n < 0) {
        errno = e;
        return -1;
    }
    return w == len ? n : -1;
}

}  // namespace

}  // namespace green::hooks::stdio

using namespace green::hooks;
using green::hooks::stdio::Call;

extern "C" {

// ---- reads ------------------------------------------------------------------------------------

wint_t fgetwc(FILE* f) {
    auto real = GREEN_REAL(fgetwc);
    const Call k = stdio::call_for(f);
    if (!k) return real ? real(f) : WEOF;
    return stdio::getc_fiber<stdio::Wide>(k, f, real);
}

wint_t getwc(FILE* f) {
    return fgetwc(f);
}

wint_t getwchar(void) {
    return fgetwc(stdin);
}

// getwc_unlocked and getwchar_unlocked are macros that call __wuflow on an empty buffer.
wint_t __wuflow(FILE* f) {
    auto real = GREEN_REAL(__wuflow);
    const Call k = stdio::call_for(f);
    if (k && k.waits && stdio::wpeek(k, f) == WEOF) return WEOF;
    return real ? real(f) : WEOF;
}

wchar_t* fgetws(wchar_t* s, int n, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k) {
        auto real = GREEN_REAL(fgetws);
        return real ? real(s, n, f) : nullptr;
    }
    return stdio::gets_fiber<stdio::Wide>(k, s, n, f);
}

// glibc fails when n exceeds the buffer's size (in wide characters); otherwise it is fgetws.
wchar_t* __fgetws_chk(wchar_t* s, size_t size, int n, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k || (n > 0 && static_cast<size_t>(n) > size)) {
        auto real = GREEN_REAL(__fgetws_chk);
        return real ? real(s, size, n, f) : nullptr;
    }
    return stdio::gets_fiber<stdio::Wide>(k, s, n, f);
}

// As the byte scanf family (stdio_hooks.cpp): the GNU entry points under their own symbol names
// (<wchar.h> maps the plain names to the ISO C99 ones in C++), and the ISO C99 ones.
int gnu_vfwscanf(FILE*, const wchar_t*, va_list) __asm__("vfwscanf");
int gnu_vwscanf(const wchar_t*, va_list) __asm__("vwscanf");
int gnu_fwscanf(FILE*, const wchar_t*, ...) __asm__("fwscanf");
int gnu_wscanf(const wchar_t*, ...) __asm__("wscanf");

int gnu_vfwscanf(FILE* f, const wchar_t* fmt, va_list ap) {
    return stdio::scan_entry(
        green::hooks::real_fn<decltype(&gnu_vfwscanf), "vfwscanf">(), f, fmt, ap,
        [](const Call& k, FILE* s, auto real) { return stdio::wscanf_fiber(k, s, real); });
}

int __isoc99_vfwscanf(FILE* f, const wchar_t* fmt, va_list ap) {
    return stdio::scan_entry(
        GREEN_REAL(__isoc99_vfwscanf), f, fmt, ap,
        [](const Call& k, FILE* s, auto real) { return stdio::wscanf_fiber(k, s, real); });
}

int gnu_vwscanf(const wchar_t* fmt, va_list ap) {
    return gnu_vfwscanf(stdin, fmt, ap);
}

int __isoc99_vwscanf(const wchar_t* fmt, va_list ap) {
    return __isoc99_vfwscanf(stdin, fmt, ap);
}

int gnu_fwscanf(FILE* f, const wchar_t* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, gnu_vfwscanf(f, fmt, ap));
}

int gnu_wscanf(const wchar_t* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, gnu_vfwscanf(stdin, fmt, ap));
}

int __isoc99_fwscanf(FILE* f, const wchar_t* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, __isoc99_vfwscanf(f, fmt, ap));
}

int __isoc99_wscanf(const wchar_t* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, __isoc99_vfwscanf(stdin, fmt, ap));
}

// ---- writes -----------------------------------------------------------------------------------

wint_t fputwc(wchar_t c, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k) return stdio::real_fputwc(c, f);
    stdio::Locked lock(k.c, f);
    fwide(f, 1);
    return stdio::wput(k, f, &c, 1) == 1 ? static_cast<wint_t>(c) : WEOF;
}

wint_t putwc(wchar_t c, FILE* f) {
    return fputwc(c, f);
}

wint_t putwchar(wchar_t c) {
    return fputwc(c, stdout);
}

int fputws(const wchar_t* s, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k) {
        auto real = GREEN_REAL(fputws);
        return real ? real(s, f) : -1;
    }
    const std::size_t len = wcslen(s);
    stdio::Locked lock(k.c, f);
    fwide(f, 1);
    return stdio::wput(k, f, s, len) == len ? 1 : -1;
}

int vfwprintf(FILE* f, const wchar_t* fmt, va_list ap) {
    const Call k = stdio::call_for(f);
    if (!k) {
        auto real = GREEN_REAL(vfwprintf);
        return real ? real(f, fmt, ap) : -1;
    }
    return stdio::vfwprintf_fiber(k, f, -1, fmt, ap);
}

int vwprintf(const wchar_t* fmt, va_list ap) {
    return vfwprintf(stdout, fmt, ap);
}

int fwprintf(FILE* f, const wchar_t* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, vfwprintf(f, fmt, ap));
}

int wprintf(const wchar_t* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, vfwprintf(stdout, fmt, ap));
}

int __vfwprintf_chk(FILE* f, int flag, const wchar_t* fmt, va_list ap) {
    const Call k = stdio::call_for(f);
    if (!k) {
        auto real = GREEN_REAL(__vfwprintf_chk);
        return real ? real(f, flag, fmt, ap) : -1;
    }
    return stdio::vfwprintf_fiber(k, f, flag, fmt, ap);
}

int __vwprintf_chk(int flag, const wchar_t* fmt, va_list ap) {
    return __vfwprintf_chk(stdout, flag, fmt, ap);
}

int __fwprintf_chk(FILE* f, int flag, const wchar_t* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, __vfwprintf_chk(f, flag, fmt, ap));
}

int __wprintf_chk(int flag, const wchar_t* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, __vfwprintf_chk(stdout, flag, fmt, ap));
}

}  // extern "C"
