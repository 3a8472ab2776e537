/* The same kinds of work on C11 <threads.h>: 200 threads that sleep, a mutex-protected
   counter with a sleep inside, a condition variable hand-off, thread-specific storage with a
   destructor and call_once. glibc implements these on its pthread internals, so under the
   shim they need hooks of their own. */
#include <threads.h>

#include "../common.h"

enum { kThreads = 200 };
static mtx_t mu;
static cnd_t cv;
static int counter, arrived, released, inits, dtor_runs;
static tss_t key;
static once_flag once = ONCE_FLAG_INIT;
static int peak_threads;

static void init_once(void) {
    ++inits;
}
static void dtor(void* v) {
    (void)v;
    mtx_lock(&mu);
    ++dtor_runs;
    mtx_unlock(&mu);
}

static int worker(void* arg) {
    long id = (long)arg;
    call_once(&once, init_once);
    tss_set(key, (void*)(id + 1));
    struct timespec d = {0, 100 * 1000000L};
    thrd_sleep(&d, NULL);
    mtx_lock(&mu);
    int v = counter;
    struct timespec tiny = {0, 1000000L};
    thrd_sleep(&tiny, NULL);
    counter = v + 1;
    if (++arrived == kThreads) {
        peak_threads = os_threads();
        released = 1;
        cnd_broadcast(&cv);
    }
    while (!released) cnd_wait(&cv, &mu);
    mtx_unlock(&mu);
    return tss_get(key) == (void*)(id + 1) ? (int)id : -1;
}

int main(void) {
    CHECK(mtx_init(&mu, mtx_plain) == thrd_success);
    CHECK(cnd_init(&cv) == thrd_success);
    CHECK(tss_create(&key, dtor) == thrd_success);
    thrd_t t[kThreads];
    long t0 = now_ms();
    for (long i = 0; i < kThreads; ++i) CHECK(thrd_create(&t[i], worker, (void*)i) == thrd_success);
    long sum = 0;
    for (int i = 0; i < kThreads; ++i) {
        int res;
        CHECK(thrd_join(t[i], &res) == thrd_success);
        sum += res;
    }
    fprintf(stderr, "info: os_threads=%d\n", peak_threads);
    fprintf(stderr, "info: elapsed_ms=%ld\n", now_ms() - t0);
    printf("counter: %d, results sum: %ld, call_once ran: %d, tss destructors: %d\n", counter, sum,
           inits, dtor_runs);
    return 0;
}
