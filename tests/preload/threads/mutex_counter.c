/* A counter behind a mutex, with a sleep inside the critical section: any lapse of mutual
   exclusion loses updates. */
#include <pthread.h>
#include <unistd.h>

#include "../common.h"

enum { kThreads = 20, kRounds = 10 };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int counter, inside, max_inside;

static void* worker(void* arg) {
    (void)arg;
    for (int i = 0; i < kRounds; ++i) {
        pthread_mutex_lock(&mu);
        if (++inside > max_inside) max_inside = inside;
        int v = counter;
        usleep(1000);
        counter = v + 1;
        --inside;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

int main(void) {
    pthread_t t[kThreads];
    for (int i = 0; i < kThreads; ++i) CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
    fprintf(stderr, "info: os_threads=%d\n", os_threads());
    for (int i = 0; i < kThreads; ++i) CHECK(pthread_join(t[i], NULL) == 0);
    printf("counter: %d (expected %d), most inside at once: %d\n", counter, kThreads * kRounds,
           max_inside);
    return 0;
}
