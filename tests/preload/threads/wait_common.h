/* Shared by the waitpid programs: children that exit after a while without touching anything
 * the parent's threads share (a raw nanosleep, then _exit), and a ticker thread that measures
 * its longest gap between 20 ms sleeps. */
#ifndef WAIT_COMMON_H
#define WAIT_COMMON_H

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common.h"

/* fork a child that sleeps ms milliseconds, then exits with code. */
static inline pid_t child_exiting(int ms, int code) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        syscall(SYS_nanosleep, &ts, NULL);
        _exit(code);
    }
    return pid;
}

static volatile int ticker_stop;
static long ticker_max_gap;

static inline void* ticker(void* arg) {
    (void)arg;
    long last = now_ms();
    while (!__atomic_load_n(&ticker_stop, __ATOMIC_ACQUIRE)) {
        usleep(20 * 1000);
        long now = now_ms();
        if (now - last > ticker_max_gap) ticker_max_gap = now - last;
        last = now;
    }
    return NULL;
}

/* "ticker ok" when the ticker never waited 150 ms or more (natively it cannot be held up). */
static inline void ticker_report(pthread_t t) {
    __atomic_store_n(&ticker_stop, 1, __ATOMIC_RELEASE);
    CHECK(pthread_join(t, NULL) == 0);
    fprintf(stderr, "info: ticker max gap %ld ms\n", ticker_max_gap);
    printf("ticker %s\n", ticker_max_gap < 150 ? "ok" : "held up");
}

#endif
