/* A semaphore of 5 over 20 threads: at most 5 inside at any time, and (since each waits inside
   until 5 are there, or a second passes) exactly 5 at the peak, natively or not. */
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include "../common.h"

enum { kThreads = 20, kSlots = 5 };
static sem_t sem;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int inside, max_inside, served;
static int filled; /* the first time 5 were inside */

static void* worker(void* arg) {
    (void)arg;
    CHECK(sem_wait(&sem) == 0);
    pthread_mutex_lock(&mu);
    if (++inside > max_inside) max_inside = inside;
    if (inside == kSlots) filled = 1;
    pthread_mutex_unlock(&mu);
    long until = now_ms() + 1000;
    for (;;) {
        pthread_mutex_lock(&mu);
        int done = filled;
        pthread_mutex_unlock(&mu);
        if (done || now_ms() > until) break;
        usleep(1000);
    }
    usleep(5000);
    pthread_mutex_lock(&mu);
    --inside;
    ++served;
    pthread_mutex_unlock(&mu);
    CHECK(sem_post(&sem) == 0);
    return NULL;
}

int main(void) {
    CHECK(sem_init(&sem, 0, kSlots) == 0);
    pthread_t t[kThreads];
    for (int i = 0; i < kThreads; ++i) CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
    for (int i = 0; i < kThreads; ++i) CHECK(pthread_join(t[i], NULL) == 0);
    int value = -1;
    sem_getvalue(&sem, &value);
    printf("served: %d, most inside at once: %d, final value: %d\n", served, max_inside, value);
    sem_destroy(&sem);
    return 0;
}
