/* 1,000 threads that each sleep 200 ms. Natively: 1,000 OS threads; under the shim the sleeps
   overlap on a handful of OS threads. */
#include <pthread.h>
#include <unistd.h>

#include "../common.h"

enum { kThreads = 1000 };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int woke;

static void* sleeper(void* arg) {
    (void)arg;
    usleep(200 * 1000);
    pthread_mutex_lock(&mu);
    ++woke;
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void) {
    static pthread_t t[kThreads];
    long t0 = now_ms();
    for (int i = 0; i < kThreads; ++i) CHECK(pthread_create(&t[i], NULL, sleeper, NULL) == 0);
    usleep(50 * 1000); /* all of them are asleep now */
    fprintf(stderr, "info: os_threads=%d\n", os_threads());
    for (int i = 0; i < kThreads; ++i) CHECK(pthread_join(t[i], NULL) == 0);
    fprintf(stderr, "info: elapsed_ms=%ld\n", now_ms() - t0);
    printf("threads: %d woke: %d\n", kThreads, woke);
    return 0;
}
