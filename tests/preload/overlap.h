/* Proof without a clock that the threads' waits overlapped: each checks in before it waits and
 * notes, when the first wait ends, how many had checked in (all of them when the waits overlap,
 * 1 when each blocked everything else). The C programs' twin of tests/support/overlap.hpp. */
#ifndef PRELOAD_OVERLAP_H
#define PRELOAD_OVERLAP_H

#include <pthread.h>

struct overlap {
    pthread_mutex_t lock;
    int entered, first_wake_saw;
};
#define OVERLAP_INIT \
    { PTHREAD_MUTEX_INITIALIZER, 0, -1 }

static inline void overlap_enter(struct overlap* o) {
    pthread_mutex_lock(&o->lock);
    ++o->entered;
    pthread_mutex_unlock(&o->lock);
}

static inline void overlap_woke(struct overlap* o) {
    pthread_mutex_lock(&o->lock);
    if (o->first_wake_saw < 0) o->first_wake_saw = o->entered;
    pthread_mutex_unlock(&o->lock);
}

static inline int overlap_entered(struct overlap* o) {
    pthread_mutex_lock(&o->lock);
    const int n = o->entered;
    pthread_mutex_unlock(&o->lock);
    return n;
}

#endif
