/* Wide-character stdio and dprintf on pipes beside a ticking thread. Reads: fgetws, fgetwc,
 * getwc and getwchar on a pipe whose writer writes each part only after the ticker has moved
 * (one part cuts a UTF-8 character in two); writes: fwprintf, fputws, fputwc and putwc, then
 * dprintf, into a full pipe whose reader drains only after the ticker has moved. Under the shim
 * a call that blocked the hub would stop the ticker and the other side would never go on (the
 * alarm ends that run). Then a signal into a blocked fgetws (EINTR without SA_RESTART, the line
 * with it) and fgetwc on a closed descriptor. Natively and under the shim the output is the
 * same. Built twice: plain,
 * and with -D_FORTIFY_SOURCE=2 (fwprintf, fgetws, dprintf through their __*_chk forms). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <wchar.h>

#include "../blocked_reader.h"
#include "../ticker.h"

static int pipe_fds[2];

/* "h\xc3\xa9": é; "\xe2\x82\xac": the euro sign, cut after its first byte. */
static const char* const parts[] = {
    "h\xc3\xa9llo w\xc3\xb6rld\n", "\xe2", "\x82\xac 5\n", "ab", "c", NULL};

static void reads(void) {
    late_moved = 0;
    CHECK(pipe(pipe_fds) == 0);
    FILE* in = fdopen(pipe_fds[0], "r");
    CHECK(in != NULL);
    pthread_t other;
    struct late_feed feed = {pipe_fds[1], parts};
    CHECK(pthread_create(&other, NULL, late_feeder, &feed) == 0);
    volatile int line_max = 64; /* not a constant: fortified, fgetws becomes __fgetws_chk */
    wchar_t line[64];
    for (int i = 0; i < 2; ++i) {
        CHECK(fgetws(line, line_max, in) != NULL);
        printf("fgetws: %zu wide characters: %ls", wcslen(line), line);
    }
    wint_t c;
    while ((c = fgetwc(in)) != WEOF) printf("fgetwc: U+%04X\n", (unsigned)c);
    printf("at the end: eof %d error %d, getwc %d, fgetws %s\n", feof(in) != 0, ferror(in) != 0,
           getwc(in) == WEOF, fgetws(line, line_max, in) ? "a line" : "NULL");
    CHECK(pthread_join(other, NULL) == 0);
    fclose(in);
    printf("the writer saw the ticker move: %d of 5 times\n", late_moved);

    /* getwchar: the pipe as stdin. */
    static const char* const more[] = {"x\xc3\xa9", "\n", NULL};
    late_moved = 0;
    CHECK(pipe(pipe_fds) == 0);
    CHECK(dup2(pipe_fds[0], STDIN_FILENO) == STDIN_FILENO);
    close(pipe_fds[0]);
    feed = (struct late_feed){pipe_fds[1], more};
    CHECK(pthread_create(&other, NULL, late_feeder, &feed) == 0);
    while ((c = getwchar()) != WEOF) printf("getwchar: U+%04X\n", (unsigned)c);
    CHECK(pthread_join(other, NULL) == 0);
    printf("getwchar's writer saw the ticker move: %d of 2 times\n", late_moved);
}

/* Writes 4096 lines of about 40 bytes (160 KiB through a 64 KiB pipe) with `how`. */
static void full_pipe(const char* name, long (*how)(int fd, FILE* out, int i)) {
    late_moved = 0;
    CHECK(pipe(pipe_fds) == 0);
    FILE* out = fdopen(pipe_fds[1], "w");
    CHECK(out != NULL);
    pthread_t other;
    CHECK(pthread_create(&other, NULL, late_drain, &pipe_fds[0]) == 0);
    long written = 0;
    for (int i = 0; i < 4096; ++i) written += how(pipe_fds[1], out, i);
    CHECK(fclose(out) == 0);
    void* total = NULL;
    CHECK(pthread_join(other, &total) == 0);
    close(pipe_fds[0]);
    printf("%s returned %ld in all, the reader got %ld bytes; it saw the ticker move: %d\n", name,
           written, (long)total, late_moved);
}

static long wide_writes(int fd, FILE* out, int i) {
    (void)fd;
    /* The characters fwprintf wrote, plus one per other call that succeeded. */
    long r = fwprintf(out, L"line %04d \u00fc\u20ac ", i);
    r += fputws(L"w\u00f6rds ", out) >= 0;
    r += fputwc(L'\u00e9', out) == L'\u00e9';
    r += putwc(i % 10 + L'0', out) == (wint_t)(i % 10 + L'0');
    return r + (fputwc(L'\n', out) == L'\n');
}

static long dprintf_writes(int fd, FILE* out, int i) {
    (void)out;
    return dprintf(fd, "line %04d of the dprintf writer, %s\n", i, "h\xc3\xa9");
}

/* A signal into an fgetws blocked on an empty pipe: EINTR and the error flag without
 * SA_RESTART (the line after clearerr), the line with it; then fgetwc on a closed descriptor. */

static int read_fgetws(struct blocked* b) {
    return fgetws(b->line.w, 64, b->in) != NULL;
}

static void closed_descriptor(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    FILE* in = fdopen(p[0], "r");
    CHECK(in != NULL);
    close(p[0]);
    errno = 0;
    wint_t c = fgetwc(in);
    printf("fgetwc on a closed descriptor: %s errno=%s ferror=%d\n", c == WEOF ? "WEOF" : "?",
           strerror(errno), ferror(in) != 0);
    fclose(in);
    close(p[1]);
}

static void dprintf_edges(void) {
    errno = 0;
    int r = dprintf(-1, "x%d", 1);
    printf("dprintf(-1): %d %s\n", r, strerror(errno));
    int p[2];
    CHECK(pipe(p) == 0);
    printf("dprintf(empty): %d\n", dprintf(p[1], "%s", ""));
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    r = dprintf(p[1], "to nobody %d\n", 42);
    printf("dprintf(no reader): %d %s\n", r, strerror(errno));
    close(p[1]);
}

int main(void) {
    alarm(60); /* a hub blocked by a call ends here, not at the test's timeout */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!setlocale(LC_ALL, "C.UTF-8")) CHECK(setlocale(LC_ALL, "en_US.UTF-8") != NULL);
    ticker_start();
    reads();
    full_pipe("fwprintf/fputws/fputwc/putwc", wide_writes);
    full_pipe("dprintf", dprintf_writes);
    dprintf_edges();
    wide_signal_round("fgetws", 0, read_fgetws);
    wide_signal_round("fgetws", SA_RESTART, read_fgetws);
    closed_descriptor();
    ticker_finish();
    return 0;
}
