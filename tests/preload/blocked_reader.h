/* A signal into a thread blocked in a stdio read of an empty pipe, for the preload test
 * programs: EINTR and the error flag without SA_RESTART, the data with it. The read itself is
 * the program's (fgets, fgetws...). */
#ifndef PRELOAD_BLOCKED_READER_H
#define PRELOAD_BLOCKED_READER_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <wchar.h>

#include "common.h"

static volatile sig_atomic_t handled;

static inline void on_usr1(int sig) {
    (void)sig;
    handled = handled + 1;
}

/* One blocked read: `in` reads the pipe whose write end is `w`; read_line (fgets, fgetws...)
 * fills `line` and returns nonzero when it returned data. */
struct blocked {
    FILE* in;
    int w;
    int (*read_line)(struct blocked*);
    int got, err, error_flag;
    int started; /* set just before read_line: the signal comes 100 ms after that */
    union {
        char c[64];
        wchar_t w[64];
    } line;
};

static inline void* blocked_reader(void* p) {
    struct blocked* b = p;
    __atomic_store_n(&b->started, 1, __ATOMIC_RELEASE);
    errno = 0;
    b->got = b->read_line(b);
    b->err = errno;
    b->error_flag = ferror(b->in);
    return NULL;
}

/* Installs a SIGUSR1 handler with `flags`, starts read_line on a fresh pipe in a thread,
 * signals it 100 ms after the thread began, writes `data` (n bytes) after another 100 ms and joins
 * the thread. The caller reports, then fcloses b->in and closes b->w. */
static inline struct blocked signal_blocked_reader(int flags, int (*read_line)(struct blocked*),
                                                   const char* data, size_t n) {
    install(SIGUSR1, on_usr1, flags);
    handled = 0;
    int p[2];
    CHECK(pipe(p) == 0);
    struct blocked b = {fdopen(p[0], "r"), p[1], read_line, 0, 0, 0, 0, {{0}}};
    CHECK(b.in != NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, blocked_reader, &b) == 0);
    /* Not from the thread's creation: on a loaded machine a new thread may first run later. */
    for (int i = 0; i < 10000 && !__atomic_load_n(&b.started, __ATOMIC_ACQUIRE); ++i) usleep(1000);
    usleep(100 * 1000);
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    usleep(100 * 1000);
    CHECK(write(p[1], data, n) == (ssize_t)n);
    CHECK(pthread_join(t, NULL) == 0);
    return b;
}

/* A signal round of a wide read (`call` names it): the report, and after an interrupted read
 * the line once more after clearerr (the stream goes on). The line is printed without its
 * newline. */
static inline void wide_signal_round(const char* call, int flags,
                                     int (*read_line)(struct blocked*)) {
    struct blocked b = signal_blocked_reader(flags, read_line, "l\xc3\xa4te\n", 6);
    wchar_t* nl = wcschr(b.line.w, L'\n');
    if (nl) *nl = L'\0';
    printf("%s, signal %s SA_RESTART: %ls errno=%s ferror=%d handled=%d\n", call,
           flags ? "with" : "without", b.got ? b.line.w : L"NULL", b.err == EINTR ? "EINTR" : "-",
           b.error_flag, (int)handled);
    if (!b.got) {
        clearerr(b.in);
        CHECK(read_line(&b));
        nl = wcschr(b.line.w, L'\n');
        if (nl) *nl = L'\0';
        printf("after clearerr: %ls\n", b.line.w);
    }
    fclose(b.in);
    close(b.w);
}

#endif
