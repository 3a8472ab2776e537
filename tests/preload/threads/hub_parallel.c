/* Two threads that really run at the same time: each announces itself and then spins, never
 * yielding, until it has seen the other announce itself too. Natively two OS threads do; under
 * greenrun --hubs 2 the two fibers must be on two hubs (two OS threads) running at once, since
 * a fiber that never yields keeps every other fiber of its hub waiting. The spin is bounded by
 * an iteration count (no clock): past it the thread reports that it ran alone. Also counts the
 * distinct kernel thread ids the threads ran on. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common.h"

enum { kThreads = 2 };
/* About 10 s of spinning on a slow machine: far past any start-up delay of the other hub. */
static const long kSpinLimit = 4000000000L;

static atomic_int arrived;
static int saw_other[kThreads];
static long tids[kThreads];

static void* spinner(void* arg) {
    const long id = (long)arg;
    tids[id] = syscall(SYS_gettid);
    atomic_fetch_add(&arrived, 1);
    for (long i = 0; i < kSpinLimit; ++i) {
        if (atomic_load_explicit(&arrived, memory_order_relaxed) == kThreads) {
            saw_other[id] = 1;
            break;
        }
    }
    return NULL;
}

int main(void) {
    pthread_t t[kThreads];
    for (long i = 0; i < kThreads; ++i) CHECK(pthread_create(&t[i], NULL, spinner, (void*)i) == 0);
    for (int i = 0; i < kThreads; ++i) CHECK(pthread_join(t[i], NULL) == 0);
    int both = 1;
    for (int i = 0; i < kThreads; ++i) both &= saw_other[i];
    printf("ran at the same time: %s\n", both ? "yes" : "no");
    printf("distinct OS threads: %d\n", tids[0] != tids[1] ? 2 : 1);
    return 0;
}
