/* stdio on pipes beside a ticking thread: fgets, getline, getc, getc_unlocked, fread and fscanf
 * on a pipe fed slowly, in halves; EOF, ungetc (both pushback kinds) and error flags; a signal
 * into a blocked fgets (EINTR without SA_RESTART, the line with it); stdio on a closed
 * descriptor; a writer blocked on a full pipe through fwrite, fprintf, fputs and putc; and two
 * threads writing one FILE (each fprintf whole, a flockfile section whole). The slow pipes are
 * fed a part each time a ticker thread has moved 3 ticks: under the shim a read that held the hub
 * would stop the ticker and so the feeder (the reads and writes must wait cooperatively). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "../blocked_reader.h"
#include "../ticker.h"

static void sleep_ms(int ms) {
    usleep((useconds_t)ms * 1000);
}

/* ---- a slowly fed pipe --------------------------------------------------------------------- */

/* The pipes below are fed by ticker.h's late_feeder: a part each time the ticker moved 3 ticks. */
enum { kFedParts = 13 };

static void slow_reads(void) {
    static const char* const parts[] = {"first ",
                                        "line\n",
                                        "second",
                                        " line\n",
                                        "x",
                                        "y",
                                        "0123",
                                        "456789",
                                        "42 ",
                                        "17\n",
                                        "tail without newline",
                                        NULL};
    int p[2];
    CHECK(pipe(p) == 0);
    struct late_feed f = {p[1], parts};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, late_feeder, &f) == 0);
    FILE* in = fdopen(p[0], "r");
    CHECK(in);
    char buf[64];
    CHECK(fgets(buf, sizeof buf, in));
    printf("fgets: %s", buf);
    char* line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, in);
    printf("getline: %zd %s", n, line);
    int c1 = getc(in);
    flockfile(in);
    int c2 = getc_unlocked(in);
    funlockfile(in);
    printf("getc: %c, getc_unlocked: %c\n", c1, c2);
    char block[11] = {0};
    size_t got = fread(block, 1, 10, in);
    printf("fread: %zu %s\n", got, block);
    int a = 0, b = 0;
    int r = fscanf(in, "%d %d", &a, &b);
    printf("fscanf: %d %d %d\n", r, a, b);
    CHECK(getc(in) == '\n');
    n = getline(&line, &cap, in); /* ends at EOF, without a newline */
    printf("getline at the end: %zd [%s] eof=%d error=%d\n", n, line, feof(in), ferror(in));
    errno = 0;
    r = fgets(buf, sizeof buf, in) != NULL;
    printf("fgets after EOF: %s eof=%d errno=%d\n", r ? "line" : "NULL", feof(in), errno);
    c1 = ungetc('u', in);
    c2 = getc(in);
    printf("ungetc: %c getc: %c getc: %d\n", c1, c2, getc(in));
    clearerr(in);
    c1 = feof(in);
    c2 = getc(in);
    printf("after clearerr: eof=%d getc=%d eof=%d\n", c1, c2, feof(in));
    free(line);
    fclose(in);
    CHECK(pthread_join(t, NULL) == 0);
}

/* ungetc of a different byte than the one read (glibc's backup area), with the buffer behind it
 * empty, so the next read must refill after the pushed-back byte: from a slow pipe. */
static void pushback(void) {
    static const char* const parts[] = {"abc\n", "more\n", NULL};
    int p[2];
    CHECK(pipe(p) == 0);
    struct late_feed f = {p[1], parts};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, late_feeder, &f) == 0);
    FILE* in = fdopen(p[0], "r");
    char buf[64];
    CHECK(fgets(buf, sizeof buf, in));
    printf("pushback: read %s", buf);
    CHECK(ungetc('Q', in) == 'Q');
    CHECK(ungetc('P', in) == 'P');
    CHECK(fgets(buf, sizeof buf, in));
    printf("pushback: then %s", buf);
    size_t got = fread(buf, 1, 3, in);
    buf[3] = 0;
    int c = getc(in);
    printf("pushback: fread %zu %s, then getc %d eof=%d\n", got, buf, c, feof(in));
    fclose(in);
    CHECK(pthread_join(t, NULL) == 0);
}

/* ---- signals into a blocked fgets --------------------------------------------------------- */

static int read_fgets(struct blocked* b) {
    return fgets(b->line.c, sizeof b->line.c, b->in) != NULL;
}

static void signal_round(int flags) {
    struct blocked b = signal_blocked_reader(flags, read_fgets, "late line\n", 10);
    printf("fgets, signal %s SA_RESTART: %s errno=%s ferror=%d handled=%d\n",
           flags ? "with" : "without", b.got ? b.line.c : "NULL", b.err == EINTR ? "EINTR" : "-",
           b.error_flag, (int)handled);
    if (!b.got) { /* the stream goes on after clearerr */
        clearerr(b.in);
        CHECK(read_fgets(&b));
        printf("after clearerr: %s", b.line.c);
    }
    fclose(b.in);
    close(b.w);
}

/* ---- a closed descriptor ------------------------------------------------------------------ */

static void closed_fd(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    FILE* in = fdopen(p[0], "r");
    FILE* out = fdopen(p[1], "w");
    close(p[0]);
    close(p[1]);
    char buf[16];
    errno = 0;
    char* r = fgets(buf, sizeof buf, in);
    printf("closed fd: fgets %s errno=%s ferror=%d\n", r ? "line" : "NULL", strerror(errno),
           ferror(in));
    errno = 0;
    int w = fputs("buffered\n", out);
    int e1 = errno;
    int fl = fflush(out);
    printf("closed fd: fputs %d (%d) fflush %d errno=%s ferror=%d\n", w, e1, fl, strerror(errno),
           ferror(out));
    fclose(in);
    fclose(out);
}

/* ---- a writer on a full pipe ---------------------------------------------------------------- */

enum { kBig = 256 * 1024 };

static void* big_writer(void* p) {
    FILE* out = p;
    static char chunk[kBig];
    for (int i = 0; i < kBig; ++i) chunk[i] = (char)('a' + i % 26);
    CHECK(fwrite(chunk, 1, kBig, out) == kBig);
    for (int i = 0; i < 100; ++i) CHECK(fprintf(out, "line %d of %s\n", i, "fprintf") > 0);
    CHECK(fputs("fputs text\n", out) >= 0);
    for (int i = 0; i < 5000; ++i) CHECK(putc('0' + i % 10, out) == '0' + i % 10);
    CHECK(fclose(out) == 0);
    return NULL;
}

static void full_pipe(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    FILE* out = fdopen(p[1], "w");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, big_writer, out) == 0);
    sleep_ms(150); /* the writer fills the pipe and must wait */
    uint64_t sum = 0, bytes = 0;
    char buf[8192];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; ++i) sum = sum * 31 + (unsigned char)buf[i];
        bytes += (uint64_t)n;
        if (bytes < 128 * 1024) sleep_ms(5);
    }
    CHECK(pthread_join(t, NULL) == 0);
    printf("full pipe: %llu bytes, checksum %llx\n", (unsigned long long)bytes,
           (unsigned long long)sum);
    close(p[0]);
}

/* ---- two threads writing one FILE ----------------------------------------------------------- */

static FILE* shared;
static int section_started[2];

static void* line_writer(void* arg) {
    char c = (char)(long)arg;
    char text[1001];
    memset(text, c, 1000);
    text[1000] = 0;
    for (int i = 0; i < 100; ++i) CHECK(fprintf(shared, "%s\n", text) == 1001);
    return NULL;
}

static void* section_writer(void* arg) {
    long id = (long)arg;
    flockfile(shared);
    if (id == 0) CHECK(write(section_started[1], "s", 1) == 1);
    fprintf(shared, "section %ld begins\n", id);
    fflush(shared);
    sleep_ms(60); /* another thread's fputs must wait for funlockfile */
    fprintf(shared, "section %ld ends\n", id);
    funlockfile(shared);
    return NULL;
}

static void* collect(void* arg) {
    int fd = (int)(long)arg;
    static char all[1 << 20];
    size_t len = 0;
    ssize_t n;
    sleep_ms(100); /* let the writers fill the pipe */
    while ((n = read(fd, all + len, sizeof all - 1 - len)) > 0) len += (size_t)n;
    all[len] = 0;
    return all;
}

static void shared_stream(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    shared = fdopen(p[1], "w");
    pthread_t r, a, b;
    CHECK(pthread_create(&r, NULL, collect, (void*)(long)p[0]) == 0);
    CHECK(pthread_create(&a, NULL, line_writer, (void*)'A') == 0);
    CHECK(pthread_create(&b, NULL, line_writer, (void*)'B') == 0);
    CHECK(pthread_join(a, NULL) == 0 && pthread_join(b, NULL) == 0);
    CHECK(pipe(section_started) == 0);
    CHECK(pthread_create(&a, NULL, section_writer, (void*)0L) == 0);
    char c;
    CHECK(read(section_started[0], &c, 1) == 1);
    CHECK(pthread_create(&b, NULL, section_writer, (void*)1L) == 0);
    CHECK(pthread_join(a, NULL) == 0 && pthread_join(b, NULL) == 0);
    fclose(shared);
    char* all;
    CHECK(pthread_join(r, (void**)&all) == 0);
    int lines = 0, mixed = 0;
    char* s = all;
    for (; lines < 200; ++lines) {
        char* nl = strchr(s, '\n');
        CHECK(nl);
        for (char* q = s; q < nl; ++q) mixed += *q != *s;
        mixed += nl - s != 1000;
        s = nl + 1;
    }
    printf("shared FILE: %d lines, %d stray bytes\n%s", lines, mixed, s);
    close(p[0]);
    close(section_started[0]);
    close(section_started[1]);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    ticker_start();
    slow_reads();
    pushback();
    signal_round(0);
    signal_round(SA_RESTART);
    closed_fd();
    full_pipe();
    shared_stream();
    ticker_finish();
    printf("the feeders saw the ticker move: %d of %d times\n", late_moved, kFedParts);
    return 0;
}
