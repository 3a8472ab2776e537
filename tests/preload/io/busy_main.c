/* For the blocking monitor: after a thread came and went, the main thread computes for 300 ms
 * without making a single blocking call, in a function the monitor's backtrace must name. */
#include <pthread.h>
#include <time.h>

#include "../common.h"

static void* nothing(void* arg) {
    return arg;
}

__attribute__((noinline)) static void compute_without_yielding(void) {
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile unsigned long spins = 0;
    do {
        ++spins;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < 300);
}

int main(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, nothing, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    compute_without_yielding();
    printf("done\n");
    return 0;
}
