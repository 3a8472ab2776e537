// stdio on pipes, sockets, FIFOs and terminals, cooperative. glibc's stdio reads and writes
// through internal calls no interposer reaches, so the hooks work around the FILE's buffer
// (public fields of glibc's struct _IO_FILE, a stable ABI): a read that finds the buffer empty
// waits for POLLIN, then refills it with __underflow (one read, which cannot block then); a
// write is handed to libc in pieces that each cause at most one write of at most one buffer,
// after POLLOUT. Each call holds the FILE's per-fiber lock (stdio_lock.hpp) across its waits.
// fgets, getdelim and fread copy from the buffer themselves (libc's would refill again inside);
// fgetc waits for the refill and then calls libc (stdio_read.hpp, shared with the wide calls);
// the scanf family runs libc's parser on a private stream that reads the FILE the same way.
// Everything else is libc's result:
// EOF and error flags, errno, ungetc's pushback, orientation. Regular files, non-blocking
// descriptors, memory streams and wide-oriented streams go straight to libc.
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>

#include "hook_common.hpp"
#include "stdio_call.hpp"
#include "stdio_lock.hpp"
#include "stdio_read.hpp"

// glibc's exported helpers of the getc/putc macros and its ISO C99 scanf entry points (the
// headers declare the latter only outside _GNU_SOURCE).
extern "C" {
int __underflow(FILE*);
int __uflow(FILE*);
int __overflow(FILE*, int);
int __isoc99_fscanf(FILE*, const char*, ...);
int __isoc99_scanf(const char*, ...);
int __isoc99_vfscanf(FILE*, const char*, va_list);
int __isoc99_vscanf(const char*, va_list);
ssize_t __getdelim(char**, size_t*, int, FILE*);
// The _FORTIFY_SOURCE entry points a program compiled with -D_FORTIFY_SOURCE calls instead of
// printf, fprintf, fgets and fread where the compiler cannot prove the call safe (all exported
// by glibc; <stdio.h> declares none of them).
int __printf_chk(int, const char*, ...);
int __fprintf_chk(FILE*, int, const char*, ...);
int __vprintf_chk(int, const char*, va_list);
int __vfprintf_chk(FILE*, int, const char*, va_list);
int __vasprintf_chk(char**, int, const char*, va_list);
char* __fgets_chk(char*, size_t, int, FILE*);
size_t __fread_chk(void*, size_t, size_t, size_t, FILE*);
}

namespace green::hooks::stdio {

namespace {

bool blocking_kind(int fd) noexcept {
    if (fd < 0) return false;
    const FdInfo i = fd_info(fd);
    return !i.nonblock &&
           (i.kind == FdKind::Socket || i.kind == FdKind::Pipe || i.kind == FdKind::Tty);
}

}  // namespace

Call call_for_stream(FILE* f, bool wide) noexcept {
    rt::Hub* h = route(Need::Io);
    // A stream oriented the other way fails the call at once in libc.
    if (!h || !f || (wide ? f->_mode < 0 : f->_mode > 0)) [[likely]]
        return {};
    const int fd = f->_fileno;
    const bool waits = blocking_kind(fd);
    if (!waits && !lock_in_use(f)) return {};
    return {{h, rt::current(*h)}, fd, waits};
}

bool writable(const Call& k, FILE* f) {
    if (when_ready(k.fd, POLLOUT, [] { return 0L; }) >= 0) return true;
    f->_flags |= _IO_ERR_SEEN;
    return false;
}

int real_fflush(FILE* f) {
    auto real = GREEN_REAL(fflush);
    return real ? real(f) : 0;
}

namespace {

Call call_for(FILE* f) noexcept {
    return call_for_stream(f, false);
}

// ---- reading --------------------------------------------------------------------------------

bool has_input(const FILE* f) noexcept {
    return f->_IO_read_ptr < f->_IO_read_end;
}

// Whether __underflow would read the descriptor: not when the end of file is sticky, the
// stream cannot read (it fails at once), or ungetc's backup area still has the main buffer
// behind it.
bool refill_reads(const FILE* f) noexcept {
    if (f->_flags & (_IO_EOF_SEEN | kNoReads)) return false;
    return !((f->_flags & kInBackup) && f->_IO_save_end > f->_IO_save_base);
}

// The next byte without taking it (a refill when the buffer is empty), or EOF with libc's flags
// and errno. The refill waits first until its read cannot block; a wait that fails (EINTR from
// a handler without SA_RESTART, EBADF: closed meanwhile) is the read's error, as natively.
int peek(const Call& k, FILE* f) {
    if (has_input(f)) return static_cast<unsigned char>(*f->_IO_read_ptr);
    if (!k.waits || !refill_reads(f)) return __underflow(f);
    return refill_when_readable(k, f, EOF, __underflow);
}

// Takes up to n buffered bytes, up to and including `delim` when delim >= 0, into out.
std::size_t take(FILE* f, char* out, std::size_t n, int delim, bool* found) noexcept {
    std::size_t len = std::min<std::size_t>(n, f->_IO_read_end - f->_IO_read_ptr);
    if (delim >= 0)
        if (const void* d = memchr(f->_IO_read_ptr, delim, len)) {
            len = static_cast<const char*>(d) - f->_IO_read_ptr + 1;
            *found = true;
        }
    memcpy(out, f->_IO_read_ptr, len);
    f->_IO_read_ptr += len;
    return len;
}

ssize_t getdelim_fiber(const Call& k, char** lineptr, size_t* n, int delim, FILE* f) {
    if (!lineptr || !n) {
        errno = EINVAL;
        return -1;
    }
    Locked lock(k.c, f);
    if (!*lineptr || *n == 0) {
        *n = 120;
        *lineptr = static_cast<char*>(malloc(*n));
        if (!*lineptr) return -1;
    }
    if (peek(k, f) == EOF) return -1;
    std::size_t cur = 0;
    for (;;) {
        std::size_t len = f->_IO_read_end - f->_IO_read_ptr;
        if (const void* d = memchr(f->_IO_read_ptr, static_cast<unsigned char>(delim), len))
            len = static_cast<const char*>(d) - f->_IO_read_ptr + 1;
        if (cur + len + 1 > static_cast<std::size_t>(SSIZE_MAX)) {
            errno = EOVERFLOW;
            return -1;
        }
        std::size_t needed = cur + len + 1;
        if (needed > *n) {
            needed = std::max(needed, 2 * *n);
            char* p = static_cast<char*>(realloc(*lineptr, needed));
            if (!p) return -1;
            *lineptr = p;
            *n = needed;
        }
        bool found = false;
        cur += take(f, *lineptr + cur, len, static_cast<unsigned char>(delim), &found);
        if (found || peek(k, f) == EOF) break;
    }
    (*lineptr)[cur] = '\0';
    return static_cast<ssize_t>(cur);
}

size_t fread_fiber(const Call& k, void* ptr, size_t size, size_t count, FILE* f) {
    const std::size_t bytes = size * count;
    if (bytes == 0) return 0;
    Locked lock(k.c, f);
    std::size_t got = 0;
    bool found = false;
    while (got < bytes && peek(k, f) != EOF)
        got += take(f, static_cast<char*>(ptr) + got, bytes - got, -1, &found);
    return got == bytes ? count : got / size;
}

// The traits of the shared reads (stdio_read.hpp) for bytes.
struct Bytes {
    using Char = char;
    using Int = int;
    static constexpr int kEnd = EOF;
    static int peek(const Call& k, FILE* f) { return stdio::peek(k, f); }
    static std::size_t take_line(FILE* f, char* out, std::size_t n, bool* found) noexcept {
        return take(f, out, n, '\n', found);
    }
};

// The scanf family: libc's own parser, reading through an unbuffered stream of
// fopencookie's whose read takes bytes from f's buffer, refilled cooperatively (peek): every
// refill waits, however many the conversion needs. The byte the parser read ahead and pushed
// back stays in that stream; it goes back to f afterwards (ungetc, as libc's scanf leaves it).
struct ScanSource {
    const Call* k;
    FILE* f;
};

ssize_t scan_read(void* cookie, char* buf, size_t n) {
    auto* src = static_cast<ScanSource*>(cookie);
    if (peek(*src->k, src->f) == EOF) return (src->f->_flags & _IO_EOF_SEEN) ? 0 : -1;
    bool found = false;
    return static_cast<ssize_t>(take(src->f, buf, n, -1, &found));
}

template <class Real>
int scanf_fiber(const Call& k, FILE* f, Real real) {
    Locked lock(k.c, f);
    ScanSource src{&k, f};
    cookie_io_functions_t io{};
    io.read = scan_read;
    FILE* via = fopencookie(&src, "r", io);
    if (!via) return EOF;
    setvbuf(via, nullptr, _IONBF, 0);
    const int r = real(via);
    const bool failed = ferror(via);
    // What the parser read but did not use, most recent last.
    char back[8];
    std::size_t nback = 0;
    while (via->_IO_read_ptr < via->_IO_read_end && nback < sizeof back)
        back[nback++] = *via->_IO_read_ptr++;
    while (nback > 0) ungetc(static_cast<unsigned char>(back[--nback]), f);
    const int e = errno;
    auto real_fclose = GREEN_REAL(fclose);
    if (real_fclose) real_fclose(via);
    if (failed) f->_flags |= _IO_ERR_SEEN;
    errno = e;
    return r;
}

// ---- writing --------------------------------------------------------------------------------

size_t real_fwrite(const void* p, size_t size, size_t n, FILE* f) {
    auto real = GREEN_REAL(fwrite);
    return real ? real(p, size, n, f) : 0;
}

// Writes n bytes through f as libc's fwrite; returns how many went (fewer: failed, with libc's
// error flag and errno). Each piece handed to libc makes at most one write of at most one
// buffer (a pipe buffer holds at least PIPE_BUF), after a wait for POLLOUT: a full buffer is
// flushed alone first, a line-buffered piece ends at its first newline, an unbuffered one is at
// most PIPE_BUF. The bytes the reader sees are the same; large writes reach it in smaller
// write calls.
std::size_t put(const Call& k, FILE* f, const char* p, std::size_t n) {
    if (!k.waits) return real_fwrite(p, 1, n, f);
    std::size_t done = 0;
    while (done < n) {
        const std::size_t rest = n - done;
        std::size_t piece = 1;
        bool writes = false;
        if (f->_flags & kUnbuffered) {
            piece = std::min<std::size_t>(rest, PIPE_BUF);
            writes = true;
        } else if (!(f->_flags & kPutting) || !f->_IO_buf_base) {
            // One byte sets up the put area (allocation, or leaving read mode) and writes
            // nothing unless it ends a line.
            writes = (f->_flags & kLineBuf) && p[done] == '\n';
        } else {
            const std::size_t room = f->_IO_buf_end - f->_IO_write_ptr;
            if (room == 0) {
                if (!writable(k, f) || real_fflush(f) != 0) return done;
                continue;
            }
            piece = std::min(rest, room);
            if (f->_flags & kLineBuf)
                if (const void* nl = memchr(p + done, '\n', piece)) {
                    piece = static_cast<const char*>(nl) - (p + done) + 1;
                    writes = true;
                }
        }
        if (writes && !writable(k, f)) return done;
        const std::size_t w = real_fwrite(p + done, 1, piece, f);
        done += w;
        if (w < piece) break;
    }
    return done;
}

int putc_fiber(const Call& k, int c, FILE* f) {
    Locked lock(k.c, f);
    const char ch = static_cast<char>(c);
    return put(k, f, &ch, 1) == 1 ? static_cast<unsigned char>(ch) : EOF;
}

// `flag` < 0: vfprintf's formatting; else __vfprintf_chk's (glibc's fortified checks, which
// end the program on a %n in writable memory and the like, exactly as natively).
int vfprintf_fiber(const Call& k, FILE* f, int flag, const char* fmt, va_list ap) {
    char* text = nullptr;
    const int n = flag < 0 ? vasprintf(&text, fmt, ap) : __vasprintf_chk(&text, flag, fmt, ap);
    if (n < 0) return -1;
    std::size_t w;
    {
        Locked lock(k.c, f);
        w = put(k, f, text, static_cast<std::size_t>(n));
    }
    free(text);
    return w == static_cast<std::size_t>(n) ? n : -1;
}

std::size_t pending(const FILE* f) noexcept {
    return (f->_flags & kPutting) ? f->_IO_write_ptr - f->_IO_write_base : 0;
}

}  // namespace

// fclose flushes what is buffered: wait until that write cannot block first.
void before_fclose(FILE* f) {
    const Call k = call_for(f);
    if (!k || !k.waits || pending(f) == 0) return;
    Locked lock(k.c, f);
    if (pending(f) != 0) (void)writable(k, f);
}

}  // namespace green::hooks::stdio

using namespace green::hooks;
using green::hooks::stdio::Call;

#define GREEN_STDIO_REAL(fn, ...)    \
    do {                             \
        auto real_ = GREEN_REAL(fn); \
        if (!real_) {                \
            errno = ENOSYS;          \
            return {};               \
        }                            \
        return real_(__VA_ARGS__);   \
    } while (0)

extern "C" {

// ---- reads ------------------------------------------------------------------------------------

int fgetc(FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k) GREEN_STDIO_REAL(fgetc, f);
    return stdio::getc_fiber<stdio::Bytes>(k, f, GREEN_REAL(fgetc));
}

int getc(FILE* f) {
    return fgetc(f);
}

int _IO_getc(FILE* f) {
    return fgetc(f);
}

int getchar(void) {
    return fgetc(stdin);
}

// getc_unlocked and getchar_unlocked are macros that call __uflow on an empty buffer.
int __uflow(FILE* f) {
    const Call k = stdio::call_for(f);
    if (k && k.waits && stdio::peek(k, f) == EOF) return EOF;
    GREEN_STDIO_REAL(__uflow, f);
}

char* fgets(char* s, int n, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k) GREEN_STDIO_REAL(fgets, s, n, f);
    return stdio::gets_fiber<stdio::Bytes>(k, s, n, f);
}

ssize_t getdelim(char** lineptr, size_t* n, int delim, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k) GREEN_STDIO_REAL(getdelim, lineptr, n, delim, f);
    return stdio::getdelim_fiber(k, lineptr, n, delim, f);
}

ssize_t __getdelim(char** lineptr, size_t* n, int delim, FILE* f) {
    return getdelim(lineptr, n, delim, f);
}

ssize_t getline(char** lineptr, size_t* n, FILE* f) {
    return getdelim(lineptr, n, '\n', f);
}

size_t fread(void* ptr, size_t size, size_t count, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k) GREEN_STDIO_REAL(fread, ptr, size, count, f);
    return stdio::fread_fiber(k, ptr, size, count, f);
}

// <stdio.h> maps the plain scanf names to glibc's ISO C99 entry points in C++ (as in strict C);
// both are hooked here under their own symbol names: the GNU ones (`%a` as a size modifier)
// for older binaries and programs built in GNU C mode, the ISO ones for the rest.
int gnu_vfscanf(FILE*, const char*, va_list) __asm__("vfscanf");
int gnu_vscanf(const char*, va_list) __asm__("vscanf");
int gnu_fscanf(FILE*, const char*, ...) __asm__("fscanf");
int gnu_scanf(const char*, ...) __asm__("scanf");

int gnu_vfscanf(FILE* f, const char* fmt, va_list ap) {
    return stdio::scan_entry(
        green::hooks::real_fn<decltype(&gnu_vfscanf), "vfscanf">(), f, fmt, ap,
        [](const Call& k, FILE* s, auto real) { return stdio::scanf_fiber(k, s, real); });
}

int __isoc99_vfscanf(FILE* f, const char* fmt, va_list ap) {
    return stdio::scan_entry(
        GREEN_REAL(__isoc99_vfscanf), f, fmt, ap,
        [](const Call& k, FILE* s, auto real) { return stdio::scanf_fiber(k, s, real); });
}

int gnu_vscanf(const char* fmt, va_list ap) {
    return gnu_vfscanf(stdin, fmt, ap);
}

int __isoc99_vscanf(const char* fmt, va_list ap) {
    return __isoc99_vfscanf(stdin, fmt, ap);
}

int gnu_fscanf(FILE* f, const char* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, gnu_vfscanf(f, fmt, ap));
}

int gnu_scanf(const char* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, gnu_vfscanf(stdin, fmt, ap));
}

int __isoc99_fscanf(FILE* f, const char* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, __isoc99_vfscanf(f, fmt, ap));
}

int __isoc99_scanf(const char* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, __isoc99_vfscanf(stdin, fmt, ap));
}

// ---- writes -----------------------------------------------------------------------------------

size_t fwrite(const void* ptr, size_t size, size_t count, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k) return stdio::real_fwrite(ptr, size, count, f);
    const std::size_t bytes = size * count;
    if (bytes == 0) return 0;
    stdio::Locked lock(k.c, f);
    const std::size_t w = stdio::put(k, f, static_cast<const char*>(ptr), bytes);
    return w == bytes ? count : w / size;
}

int fputs(const char* s, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k) GREEN_STDIO_REAL(fputs, s, f);
    const std::size_t len = strlen(s);
    stdio::Locked lock(k.c, f);
    return stdio::put(k, f, s, len) == len ? 1 : EOF;
}

int puts(const char* s) {
    const Call k = stdio::call_for(stdout);
    if (!k) GREEN_STDIO_REAL(puts, s);
    const std::size_t len = strlen(s);
    stdio::Locked lock(k.c, stdout);
    if (stdio::put(k, stdout, s, len) != len || stdio::put(k, stdout, "\n", 1) != 1) return EOF;
    return static_cast<int>(std::min<std::size_t>(INT_MAX, len + 1));
}

int fputc(int c, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k) GREEN_STDIO_REAL(fputc, c, f);
    return stdio::putc_fiber(k, c, f);
}

int putc(int c, FILE* f) {
    return fputc(c, f);
}

int _IO_putc(int c, FILE* f) {
    return fputc(c, f);
}

int putchar(int c) {
    return fputc(c, stdout);
}

// putc_unlocked and putchar_unlocked are macros that call __overflow on a full (or
// line-buffered) buffer: a full one is flushed alone first, then the call makes at most one
// write.
int __overflow(FILE* f, int c) {
    const Call k = stdio::call_for(f);
    if (k && k.waits) {
        if ((f->_flags & stdio::kPutting) && f->_IO_buf_base &&
            f->_IO_write_ptr >= f->_IO_buf_end &&
            (!stdio::writable(k, f) || stdio::real_fflush(f) != 0))
            return EOF;
        const bool writes = c == EOF || (f->_flags & stdio::kUnbuffered) ||
                            ((f->_flags & stdio::kLineBuf) && c == '\n');
        if (writes && !stdio::writable(k, f)) return EOF;
    }
    GREEN_STDIO_REAL(__overflow, f, c);
}

int vfprintf(FILE* f, const char* fmt, va_list ap) {
    const Call k = stdio::call_for(f);
    if (!k) GREEN_STDIO_REAL(vfprintf, f, fmt, ap);
    return stdio::vfprintf_fiber(k, f, -1, fmt, ap);
}

int vprintf(const char* fmt, va_list ap) {
    return vfprintf(stdout, fmt, ap);
}

int fprintf(FILE* f, const char* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, vfprintf(f, fmt, ap));
}

int printf(const char* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, vfprintf(stdout, fmt, ap));
}

int fflush(FILE* f) {
    const Call k = f ? stdio::call_for(f) : Call{};
    if (!k || !k.waits) GREEN_STDIO_REAL(fflush, f);
    stdio::Locked lock(k.c, f);
    if (stdio::pending(f) != 0 && !stdio::writable(k, f)) return EOF;
    return stdio::real_fflush(f);
}

// The fortified forms: their checks first, as glibc makes them (a failing one is left to glibc's
// own function, which ends the program there), then the same path as the plain call.
int __vfprintf_chk(FILE* f, int flag, const char* fmt, va_list ap) {
    const Call k = stdio::call_for(f);
    if (!k) GREEN_STDIO_REAL(__vfprintf_chk, f, flag, fmt, ap);
    return stdio::vfprintf_fiber(k, f, flag, fmt, ap);
}

int __vprintf_chk(int flag, const char* fmt, va_list ap) {
    return __vfprintf_chk(stdout, flag, fmt, ap);
}

int __fprintf_chk(FILE* f, int flag, const char* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, __vfprintf_chk(f, flag, fmt, ap));
}

int __printf_chk(int flag, const char* fmt, ...) {
    GREEN_FORWARD_VARIADIC(fmt, __vfprintf_chk(stdout, flag, fmt, ap));
}

// glibc reads at most min(n - 1, size) bytes and fails when that filled `size`: with n <= size
// that cannot happen, and the call is fgets.
char* __fgets_chk(char* s, size_t size, int n, FILE* f) {
    const Call k = stdio::call_for(f);
    if (!k || (n > 0 && static_cast<size_t>(n) > size))
        GREEN_STDIO_REAL(__fgets_chk, s, size, n, f);
    return stdio::gets_fiber<stdio::Bytes>(k, s, n, f);
}

// glibc fails when size * count overflows or exceeds the buffer; otherwise it is fread.
size_t __fread_chk(void* ptr, size_t ptrlen, size_t size, size_t count, FILE* f) {
    const Call k = stdio::call_for(f);
    size_t bytes = 0;
    if (!k || __builtin_mul_overflow(size, count, &bytes) || bytes > ptrlen)
        GREEN_STDIO_REAL(__fread_chk, ptr, ptrlen, size, count, f);
    return stdio::fread_fiber(k, ptr, size, count, f);
}

}  // extern "C"
