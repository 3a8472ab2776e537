/* Shared bits of the signal programs: plain C, run natively and under greenrun with the same
 * output. Every program arms alarm() first, so a hang ends as a failure (SIGALRM's default
 * action) instead of waiting for the test's timeout. */
#ifndef SIGNALS_COMMON_H
#define SIGNALS_COMMON_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../common.h"

static inline void block(int sig, int how) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK(pthread_sigmask(how, &s, NULL) == 0);
}

static inline int blocked(int sig) {
    sigset_t s;
    CHECK(pthread_sigmask(SIG_BLOCK, NULL, &s) == 0);
    return sigismember(&s, sig);
}

static inline void pause_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline const char* err_name(int r, int e) {
    if (r >= 0) return "ok";
    return e == EINTR ? "EINTR" : e == EAGAIN ? "EAGAIN" : "other";
}

#endif
