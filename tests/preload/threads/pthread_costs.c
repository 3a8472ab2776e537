/* What the basic pthread operations cost: uncontended mutex lock+unlock, create+join, and a
   condition-variable ping-pong between two threads. stdout says what ran (it must match);
   the per-operation times go to stderr as "info:" lines, for natively vs. under the shim. */
#include <pthread.h>

#include "../common.h"

enum { kLocks = 5000000, kThreads = 20000, kRounds = 100000 };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, pongs;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void* identity(void* arg) {
    return arg;
}

static void* pong(void* arg) {
    for (int i = 0; i < kRounds; ++i) {
        pthread_mutex_lock(&mu);
        while (turn != 1) pthread_cond_wait(&cv, &mu);
        turn = 0;
        ++pongs;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
    return arg;
}

int main(void) {
    double t0 = now_s();
    long sum = 0;
    for (long i = 0; i < kThreads; ++i) {
        pthread_t t;
        void* r;
        CHECK(pthread_create(&t, NULL, identity, (void*)i) == 0);
        CHECK(pthread_join(t, &r) == 0);
        sum += (long)r;
    }
    fprintf(stderr, "info: create+join %.2f us\n", (now_s() - t0) / kThreads * 1e6);

    /* After the first thread: under the shim the main thread is a fiber of its hub now. */
    t0 = now_s();
    for (int i = 0; i < kLocks; ++i) {
        pthread_mutex_lock(&mu);
        pthread_mutex_unlock(&mu);
    }
    fprintf(stderr, "info: mutex lock+unlock %.1f ns\n", (now_s() - t0) / kLocks * 1e9);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, pong, NULL) == 0);
    t0 = now_s();
    for (int i = 0; i < kRounds; ++i) {
        pthread_mutex_lock(&mu);
        while (turn != 0) pthread_cond_wait(&cv, &mu);
        turn = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
    CHECK(pthread_join(t, NULL) == 0);
    fprintf(stderr, "info: condvar ping-pong round trip %.2f us\n", (now_s() - t0) / kRounds * 1e6);
    printf("locks: %d, threads: %d (sum %ld), ping-pong rounds: %d\n", kLocks, kThreads, sum,
           pongs);
    return 0;
}
