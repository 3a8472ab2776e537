/* A bounded queue on a mutex and two condition variables: 4 producers, 4 consumers, capacity
   8. Consumers also use timed waits, on CLOCK_MONOTONIC. */
#include <errno.h>
#include <pthread.h>

#include "../common.h"

enum { kProducers = 4, kConsumers = 4, kItems = 2000, kCap = 8 };
static int queue[kCap], head, count, producers_left = kProducers;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty;
static long long total;
static int consumed, timeouts_seen;

static void* producer(void* arg) {
    int base = (int)(long)arg * kItems;
    for (int i = 1; i <= kItems; ++i) {
        pthread_mutex_lock(&mu);
        while (count == kCap) pthread_cond_wait(&not_full, &mu);
        queue[(head + count++) % kCap] = base + i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    --producers_left;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void* consumer(void* arg) {
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (count == 0 && producers_left > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += 20 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            int rc = pthread_cond_timedwait(&not_empty, &mu, &ts);
            CHECK(rc == 0 || rc == ETIMEDOUT);
            if (rc == ETIMEDOUT) timeouts_seen = 1;
        }
        if (count == 0) break;
        total += queue[head];
        head = (head + 1) % kCap;
        --count;
        ++consumed;
        pthread_cond_signal(&not_full);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&not_empty, &ca);
    pthread_t p[kProducers], c[kConsumers];
    for (int i = 0; i < kConsumers; ++i) CHECK(pthread_create(&c[i], NULL, consumer, NULL) == 0);
    for (long i = 0; i < kProducers; ++i)
        CHECK(pthread_create(&p[i], NULL, producer, (void*)i) == 0);
    for (int i = 0; i < kProducers; ++i) pthread_join(p[i], NULL);
    for (int i = 0; i < kConsumers; ++i) pthread_join(c[i], NULL);
    long long want = 0;
    for (int i = 0; i < kProducers * kItems; ++i) want += i + 1;
    fprintf(stderr, "info: timeouts_seen=%d\n", timeouts_seen);
    printf("consumed: %d sum ok: %s\n", consumed, total == want ? "yes" : "no");
    return 0;
}
