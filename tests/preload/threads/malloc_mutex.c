/* A program whose allocator takes pthread mutexes, as jemalloc and many custom allocators do:
 * a recursive arena lock (realloc holds it around malloc), a plain statistics lock,
 * pthread_once for set-up and a pthread key for a per-thread allocation count. Under the shim
 * these calls reach the hooks from inside malloc: the hooks must not allocate through this
 * malloc while handling them (that recursed until the stack ran out). Like real allocators it
 * never blocks while holding its locks; the threads meanwhile contend for a mutex of their own
 * and sleep holding it. First, one thread holds the arena lock across a sleep while another
 * allocates: the waiter parks on it with nothing else to run, and the hub's switch to its own
 * loop allocates too (the loop's first stack) while that lock is taken. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"

#define HEAP_SIZE (1ul << 32)

static char* heap;
static size_t used;
static pthread_mutex_t arena_lock; /* recursive: realloc holds it around malloc */
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t count_key;
static unsigned long calls;
static pthread_mutex_t app_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long app_sleeps;

static void setup(void) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&arena_lock, &a);
    pthread_mutexattr_destroy(&a);
    heap = mmap(NULL, HEAP_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (heap == MAP_FAILED) abort();
    if (pthread_key_create(&count_key, NULL) != 0) abort();
}

/* Each block: 16 bytes of header holding its size, then the payload. */
static void* take(size_t n, size_t align) {
    int saved = errno;
    pthread_once(&once, setup);
    if (align < 16) align = 16;
    pthread_mutex_lock(&arena_lock);
    size_t start = (used + 16 + align - 1) & ~(align - 1);
    if (start + n > HEAP_SIZE) abort();
    used = start + n;
    pthread_mutex_unlock(&arena_lock);
    *(size_t*)(heap + start - 16) = n;

    pthread_mutex_lock(&stats_lock);
    ++calls;
    pthread_mutex_unlock(&stats_lock);
    uintptr_t mine = (uintptr_t)pthread_getspecific(count_key);
    pthread_setspecific(count_key, (void*)(mine + 1));
    errno = saved;
    return heap + start;
}

void* malloc(size_t n) {
    return take(n, 16);
}
void free(void* p) {
    if (!p) return;
    pthread_mutex_lock(&arena_lock);
    pthread_mutex_unlock(&arena_lock);
}
void* calloc(size_t n, size_t size) {
    return take(n * size, 16); /* fresh mmap pages are zero */
}
void* realloc(void* p, size_t n) {
    pthread_once(&once, setup);
    pthread_mutex_lock(&arena_lock); /* recursive: take() locks it again */
    void* q = take(n, 16);
    if (p) {
        size_t old = *(size_t*)((char*)p - 16);
        memcpy(q, p, old < n ? old : n);
    }
    pthread_mutex_unlock(&arena_lock);
    return q;
}
void* memalign(size_t align, size_t n) {
    return take(n, align);
}
void* aligned_alloc(size_t align, size_t n) {
    return take(n, align);
}
int posix_memalign(void** out, size_t align, size_t n) {
    *out = take(n, align);
    return 0;
}
size_t malloc_usable_size(void* p) {
    return p ? *(size_t*)((char*)p - 16) : 0;
}

enum { kThreads = 16, kRounds = 200 };

static void* worker(void* arg) {
    long id = (long)arg;
    unsigned long sum = 0;
    char* keep = NULL;
    for (int i = 0; i < kRounds; ++i) {
        char* p = malloc(24 + (size_t)i % 40);
        snprintf(p, 24, "%ld:%d", id, i);
        sum += strlen(p);
        keep = realloc(keep, (size_t)i + 1);
        keep[i] = 'x';
        free(p);
        if (i % 50 == 0) { /* hold a lock of the program's across a sleep: others queue */
            pthread_mutex_lock(&app_lock);
            struct timespec ts = {0, 200 * 1000};
            nanosleep(&ts, NULL);
            ++app_sleeps;
            pthread_mutex_unlock(&app_lock);
        }
    }
    free(keep);
    return (void*)sum;
}

static void* hold_arena(void* arg) {
    (void)arg;
    pthread_mutex_lock(&arena_lock);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    pthread_mutex_unlock(&arena_lock);
    return NULL;
}

static void* allocate_once(void* arg) {
    (void)arg;
    free(malloc(32));
    return NULL;
}

int main(void) {
    pthread_once(&once, setup);
    pthread_t holder, waiter;
    CHECK(pthread_create(&holder, NULL, hold_arena, NULL) == 0);
    CHECK(pthread_create(&waiter, NULL, allocate_once, NULL) == 0);
    CHECK(pthread_join(holder, NULL) == 0 && pthread_join(waiter, NULL) == 0);
    printf("an allocation waited for the arena lock held across a sleep\n");

    pthread_t t[kThreads];
    for (long i = 0; i < kThreads; ++i) CHECK(pthread_create(&t[i], NULL, worker, (void*)i) == 0);
    report_os_threads();
    unsigned long total = 0;
    for (int i = 0; i < kThreads; ++i) {
        void* r;
        CHECK(pthread_join(t[i], &r) == 0);
        total += (unsigned long)r;
    }
    printf("threads: %d, characters formatted: %lu\n", kThreads, total);
    printf("own malloc served the program: %s, sleeps under the program's lock: %lu\n",
           calls > 0 ? "yes" : "no", app_sleeps);
    return 0;
}
