/* A ticker thread for the preload test programs: it counts 5 ms sleeps, so a test shows that
 * other threads kept running while one waited (under the shim, a call that blocked the hub would
 * stop the count) by counting ticks, never by timing gaps. */
#ifndef PRELOAD_TICKER_H
#define PRELOAD_TICKER_H

#include <pthread.h>
#include <unistd.h>

#include "common.h"

static volatile long ticker_ticks;
static volatile int ticker_stopping;
static pthread_t ticker_thread;

static inline void* ticker_run(void* arg) {
    (void)arg;
    while (!__atomic_load_n(&ticker_stopping, __ATOMIC_ACQUIRE)) {
        usleep(5 * 1000);
        __atomic_add_fetch(&ticker_ticks, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static inline void ticker_start(void) {
    __atomic_store_n(&ticker_stopping, 0, __ATOMIC_RELEASE);
    CHECK(pthread_create(&ticker_thread, NULL, ticker_run, NULL) == 0);
}

static inline void ticker_finish(void) {
    __atomic_store_n(&ticker_stopping, 1, __ATOMIC_RELEASE);
    CHECK(pthread_join(ticker_thread, NULL) == 0);
}

static inline long ticks_now(void) {
    return __atomic_load_n(&ticker_ticks, __ATOMIC_ACQUIRE);
}

/* Waits (sleeping) until the ticker has moved n ticks past `from`: 1 when it did, 0 when it did
 * not within 5 s (a safety net against a hang, not a speed bound). */
static inline int ticker_moved(long from, long n) {
    for (int i = 0; i < 1000; ++i) {
        if (ticks_now() >= from + n) return 1;
        usleep(5 * 1000);
    }
    return 0;
}

/* The ticker moves the other side of a test waits for: ticker_moved's successes add up here. */
static int late_moved;

/* A thread body that feeds a pipe: writes each of parts (NULL-terminated) after the ticker has
 * moved 3 more ticks, then closes fd. A reader that blocked the hub would stop it. */
struct late_feed {
    int fd;
    const char* const* parts;
};

static inline void* late_feeder(void* feed) {
    struct late_feed* f = feed;
    for (const char* const* p = f->parts; *p; ++p) {
        late_moved += ticker_moved(ticks_now(), 3);
        size_t n = strlen(*p);
        CHECK(write(f->fd, *p, n) == (ssize_t)n);
    }
    close(f->fd);
    return NULL;
}

/* A thread body: once the ticker has moved 3 ticks, reads the pipe *(int*)fd_ptr to its end and
 * returns the byte count. A writer that blocked the hub on the full pipe would never let it
 * start. */
static inline void* late_drain(void* fd_ptr) {
    late_moved += ticker_moved(ticks_now(), 3);
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(*(int*)fd_ptr, buf, sizeof buf)) > 0) total += n;
    return (void*)total;
}

#endif
