/* Thread synchronisation under contention from several OS threads (run natively, and under
 * greenrun --hubs 2, where the threads are fibers of two hubs that really run at once): a
 * mutex-protected counter with a checksum, a recursive and an error-checking mutex, a bounded
 * buffer with two condition variables, barrier rounds, a read-write lock, a semaphore
 * ping-pong and a futex-based C11 atomic hand-off. Every figure printed is a count or a sum
 * that any lost wake-up, lost update or lapse of exclusion would change (or hang: ctest's
 * timeout). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common.h"

enum { kThreads = 6, kIncrements = 20000 };

/* ---- mutex counter with checksum ------------------------------------------------------- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static unsigned long long checksum;
static int inside, max_inside;

static void* count_worker(void* arg) {
    const long id = (long)arg;
    for (long i = 0; i < kIncrements; ++i) {
        pthread_mutex_lock(&mu);
        if (++inside > max_inside) max_inside = inside;
        const long v = counter;
        counter = v + 1;
        checksum += (unsigned long long)(id * 1000003 + i);
        --inside;
        pthread_mutex_unlock(&mu);
        if (i % 1000 == 0) sched_yield();
    }
    return NULL;
}

/* ---- recursive and error-checking mutexes ---------------------------------------------- */
static pthread_mutex_t rec, chk;
static long rec_count, chk_errors;

static void* typed_worker(void* arg) {
    (void)arg;
    for (int i = 0; i < 5000; ++i) {
        pthread_mutex_lock(&rec);
        pthread_mutex_lock(&rec);
        ++rec_count;
        pthread_mutex_unlock(&rec);
        pthread_mutex_unlock(&rec);
        pthread_mutex_lock(&chk);
        if (pthread_mutex_lock(&chk) == EDEADLK) ++chk_errors;
        pthread_mutex_unlock(&chk);
    }
    return NULL;
}

/* ---- bounded buffer: producers and consumers on condition variables -------------------- */
enum { kSlots = 8, kItems = 20000, kProducers = 2, kConsumers = 3 };
static pthread_mutex_t bmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static long buf[kSlots];
static int head, count, producers_left = kProducers;
static unsigned long long consumed_sum;
static long consumed;

static void* producer(void* arg) {
    const long base = (long)arg * kItems;
    for (long i = 1; i <= kItems; ++i) {
        pthread_mutex_lock(&bmu);
        while (count == kSlots) pthread_cond_wait(&not_full, &bmu);
        buf[(head + count++) % kSlots] = base + i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&bmu);
    }
    pthread_mutex_lock(&bmu);
    if (--producers_left == 0) pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&bmu);
    return NULL;
}

static void* consumer(void* arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&bmu);
        while (count == 0 && producers_left > 0) pthread_cond_wait(&not_empty, &bmu);
        if (count == 0) {
            pthread_mutex_unlock(&bmu);
            return NULL;
        }
        const long v = buf[head];
        head = (head + 1) % kSlots;
        --count;
        consumed_sum += (unsigned long long)v;
        ++consumed;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&bmu);
    }
}

/* ---- barrier rounds ---------------------------------------------------------------------- */
enum { kBarrierThreads = 4, kRounds = 500 };
static pthread_barrier_t bar;
static atomic_long slots[kBarrierThreads];
static atomic_int serial_count, round_errors;

static void* barrier_worker(void* arg) {
    const long id = (long)arg;
    for (long r = 1; r <= kRounds; ++r) {
        atomic_store(&slots[id], r);
        if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD)
            atomic_fetch_add(&serial_count, 1);
        /* Everyone wrote round r before anyone passed. */
        for (int j = 0; j < kBarrierThreads; ++j)
            if (atomic_load(&slots[j]) < r) atomic_fetch_add(&round_errors, 1);
        pthread_barrier_wait(&bar); /* nobody writes r+1 before all checked r */
    }
    return NULL;
}

/* ---- read-write lock --------------------------------------------------------------------- */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_a, rw_b;
static atomic_long torn_reads;

static void* rw_worker(void* arg) {
    const long id = (long)arg;
    for (int i = 0; i < 5000; ++i) {
        if ((i + id) % 4 == 0) {
            pthread_rwlock_wrlock(&rw);
            ++rw_a;
            ++rw_b;
            pthread_rwlock_unlock(&rw);
        } else {
            pthread_rwlock_rdlock(&rw);
            if (rw_a != rw_b) atomic_fetch_add(&torn_reads, 1);
            pthread_rwlock_unlock(&rw);
        }
    }
    return NULL;
}

/* ---- semaphore ping-pong ----------------------------------------------------------------- */
enum { kPings = 5000 };
static sem_t ping, pong;
static long pings, pongs;

static void* pinger(void* arg) {
    (void)arg;
    for (int i = 0; i < kPings; ++i) {
        sem_post(&ping);
        sem_wait(&pong);
        ++pings;
    }
    return NULL;
}

static void* ponger(void* arg) {
    (void)arg;
    for (int i = 0; i < kPings; ++i) {
        sem_wait(&ping);
        ++pongs;
        sem_post(&pong);
    }
    return NULL;
}

/* ---- futex hand-off (what std::atomic::wait and C11 libraries build on) ------------------ */
static _Atomic uint32_t turn;
static long futex_rounds;

static void futex_wait_for(uint32_t want) {
    uint32_t v;
    while ((v = atomic_load(&turn)) != want)
        syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void* futex_player(void* arg) {
    const uint32_t me = (uint32_t)(long)arg;
    for (int i = 0; i < 3000; ++i) {
        futex_wait_for(me);
        if (me == 0) ++futex_rounds;
        atomic_store(&turn, 1 - me);
        syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    return NULL;
}

static void run(void* (*fn)(void*), int n, long first_arg) {
    pthread_t t[16];
    for (int i = 0; i < n; ++i) CHECK(pthread_create(&t[i], NULL, fn, (void*)(first_arg + i)) == 0);
    for (int i = 0; i < n; ++i) CHECK(pthread_join(t[i], NULL) == 0);
}

int main(void) {
    run(count_worker, kThreads, 0);
    unsigned long long want = 0;
    for (long id = 0; id < kThreads; ++id)
        for (long i = 0; i < kIncrements; ++i) want += (unsigned long long)(id * 1000003 + i);
    printf("mutex: counter %ld, checksum %s, most inside at once %d\n", counter,
           checksum == want ? "ok" : "WRONG", max_inside);

    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&rec, &a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&chk, &a);
    run(typed_worker, 4, 0);
    printf("recursive: %ld, error-checking relocks refused: %ld\n", rec_count, chk_errors);

    pthread_t p[kProducers], c[kConsumers];
    for (long i = 0; i < kConsumers; ++i) CHECK(pthread_create(&c[i], NULL, consumer, NULL) == 0);
    for (long i = 0; i < kProducers; ++i)
        CHECK(pthread_create(&p[i], NULL, producer, (void*)i) == 0);
    for (int i = 0; i < kProducers; ++i) CHECK(pthread_join(p[i], NULL) == 0);
    for (int i = 0; i < kConsumers; ++i) CHECK(pthread_join(c[i], NULL) == 0);
    unsigned long long want_sum = 0;
    for (long k = 0; k < kProducers; ++k)
        for (long i = 1; i <= kItems; ++i) want_sum += (unsigned long long)(k * kItems + i);
    printf("condvar: %ld items, sum %s\n", consumed, consumed_sum == want_sum ? "ok" : "WRONG");

    CHECK(pthread_barrier_init(&bar, NULL, kBarrierThreads) == 0);
    run(barrier_worker, kBarrierThreads, 0);
    CHECK(pthread_barrier_destroy(&bar) == 0);
    printf("barrier: %d serial threads in %d rounds, %d early passes\n", atomic_load(&serial_count),
           kRounds, atomic_load(&round_errors));

    run(rw_worker, 4, 0);
    printf("rwlock: %ld writes, %ld torn reads\n", rw_a, atomic_load(&torn_reads));

    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    pthread_t pi, po;
    CHECK(pthread_create(&pi, NULL, pinger, NULL) == 0);
    CHECK(pthread_create(&po, NULL, ponger, NULL) == 0);
    CHECK(pthread_join(pi, NULL) == 0);
    CHECK(pthread_join(po, NULL) == 0);
    printf("semaphore: %ld pings, %ld pongs\n", pings, pongs);

    run(futex_player, 2, 0);
    printf("futex: %ld rounds\n", futex_rounds);
    report_os_threads();
    return 0;
}
