/* The wide scanf family on pipes beside a ticking thread: fwscanf, vfwscanf, wscanf and vwscanf,
 * each through its GNU and its ISO C99 entry point, on a pipe whose writer writes each part only
 * after the ticker has moved (numbers and a UTF-8 character cut between parts, so one conversion
 * needs several refills). Under the shim a refill that blocked the hub would stop the ticker and
 * the writer would not go on (it counts the moves it saw). Then what the parser read ahead
 * (fgetwc sees it), end of file, a signal into a blocked fwscanf (EINTR without SA_RESTART, the
 * word with it), a closed descriptor and a byte-oriented stream. Natively and under the shim the
 * output is the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <wchar.h>

#include "../blocked_reader.h"
#include "../ticker.h"

/* Both entry points of each call by their symbol names, whichever <wchar.h> maps the plain
 * names to. */
extern int gnu_fwscanf(FILE*, const wchar_t*, ...) __asm__("fwscanf");
extern int gnu_vfwscanf(FILE*, const wchar_t*, va_list) __asm__("vfwscanf");
extern int gnu_wscanf(const wchar_t*, ...) __asm__("wscanf");
extern int gnu_vwscanf(const wchar_t*, va_list) __asm__("vwscanf");
extern int iso_fwscanf(FILE*, const wchar_t*, ...) __asm__("__isoc99_fwscanf");
extern int iso_vfwscanf(FILE*, const wchar_t*, va_list) __asm__("__isoc99_vfwscanf");
extern int iso_wscanf(const wchar_t*, ...) __asm__("__isoc99_wscanf");
extern int iso_vwscanf(const wchar_t*, va_list) __asm__("__isoc99_vwscanf");

static int via_vfwscanf(int iso, FILE* in, const wchar_t* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = iso ? iso_vfwscanf(in, fmt, ap) : gnu_vfwscanf(in, fmt, ap);
    va_end(ap);
    return r;
}

static int via_vwscanf(int iso, const wchar_t* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = iso ? iso_vwscanf(fmt, ap) : gnu_vwscanf(fmt, ap);
    va_end(ap);
    return r;
}

/* "h\xc3\xa9": é; "\xe2\x82\xac": the euro sign, cut after its second byte. */
static const char* const parts[] = {"42 h\xc3", "\xa9llo 7", "3\n\xe2\x82", "\xac x\n 1",
                                    "9 -5",     "5\n",       "99",          NULL};

static void reads(int iso) {
    late_moved = 0;
    int p[2];
    CHECK(pipe(p) == 0);
    FILE* in = fdopen(p[0], "r");
    CHECK(in != NULL);
    pthread_t writer;
    struct late_feed feed = {p[1], parts};
    CHECK(pthread_create(&writer, NULL, late_feeder, &feed) == 0);
    const char* name = iso ? "iso" : "gnu";
    int a = 0, b = 0;
    wchar_t word[16] = L"";
    int r = iso ? iso_fwscanf(in, L"%d %15ls %d", &a, word, &b)
                : gnu_fwscanf(in, L"%d %15ls %d", &a, word, &b);
    printf("%s fwscanf: %d: %d [%ls] %d\n", name, r, a, word, b);
    wint_t next = fgetwc(in); /* the newline the parser read ahead */
    printf("%s then fgetwc: U+%04X\n", name, (unsigned)next);
    wchar_t c1 = 0, c2 = 0;
    r = via_vfwscanf(iso, in, L" %lc %lc", &c1, &c2);
    printf("%s vfwscanf: %d: U+%04X U+%04X\n", name, r, (unsigned)c1, (unsigned)c2);
    r = via_vfwscanf(iso, in, L"%d %d", &a, &b);
    printf("%s vfwscanf: %d: %d %d\n", name, r, a, b);
    r = via_vfwscanf(iso, in, L"%d", &a);
    printf("%s vfwscanf at the end: %d: %d eof %d error %d\n", name, r, a, feof(in) != 0,
           ferror(in) != 0);
    r = via_vfwscanf(iso, in, L"%d", &a);
    printf("%s vfwscanf after the end: %d eof %d\n", name, r, feof(in) != 0);
    CHECK(pthread_join(writer, NULL) == 0);
    fclose(in);
    printf("%s: the writer saw the ticker move: %d of 7 times\n", name, late_moved);

    /* wscanf and vwscanf: the pipe as stdin. */
    static const char* const more[] = {"1", "2 3", "4\n", "5\xc3", "\xb6", NULL};
    late_moved = 0;
    CHECK(pipe(p) == 0);
    CHECK(dup2(p[0], STDIN_FILENO) == STDIN_FILENO);
    close(p[0]);
    clearerr(stdin);
    feed = (struct late_feed){p[1], more};
    CHECK(pthread_create(&writer, NULL, late_feeder, &feed) == 0);
    r = iso ? iso_wscanf(L"%d %d", &a, &b) : gnu_wscanf(L"%d %d", &a, &b);
    printf("%s wscanf: %d: %d %d\n", name, r, a, b);
    word[0] = L'\0';
    r = via_vwscanf(iso, L"%15ls", word);
    printf("%s vwscanf: %d: [%ls]\n", name, r, word);
    CHECK(pthread_join(writer, NULL) == 0);
    printf("%s: wscanf's writer saw the ticker move: %d of 5 times\n", name, late_moved);
}

static int read_fwscanf(struct blocked* b) {
    return fwscanf(b->in, L"%63ls", b->line.w) == 1;
}

static void edges(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    FILE* in = fdopen(p[0], "r");
    CHECK(in != NULL);
    close(p[0]);
    int a = 0;
    errno = 0;
    int r = fwscanf(in, L"%d", &a);
    printf("fwscanf on a closed descriptor: %d errno=%s ferror=%d\n", r, strerror(errno),
           ferror(in) != 0);
    fclose(in);
    close(p[1]);

    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "7 8\n", 4) == 4);
    in = fdopen(p[0], "r");
    CHECK(in != NULL);
    int c = fgetc(in); /* byte-oriented from here on */
    errno = 0;
    r = fwscanf(in, L"%d", &a);
    printf("fwscanf on a byte stream after fgetc %c: %d fwide %d\n", c, r, fwide(in, 0));
    fclose(in);
    close(p[1]);
}

int main(void) {
    alarm(60); /* a hub blocked by a call ends here, not at the test's timeout */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!setlocale(LC_ALL, "C.UTF-8")) CHECK(setlocale(LC_ALL, "en_US.UTF-8") != NULL);
    ticker_start();
    reads(0);
    reads(1);
    wide_signal_round("fwscanf", 0, read_fwscanf);
    wide_signal_round("fwscanf", SA_RESTART, read_fwscanf);
    edges();
    ticker_finish();
    return 0;
}
