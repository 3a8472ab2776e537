/* A program that brings its own malloc, which itself calls functions the shim hooks (nanosleep
 * in its spin lock, write on every call): finding libc's real functions must not deadlock or
 * recurse when the shim's own allocations land here. Then a little threaded pipe I/O. */
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
static int lock;
static unsigned long calls;

static void heap_lock(void) {
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) {
        struct timespec ts = {0, 1000};
        nanosleep(&ts, NULL);
    }
}

static void heap_unlock(void) {
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

/* Each block: 16 bytes of header holding its size, then the payload. */
static void* take(size_t n, size_t align) {
    int saved = errno;
    (void)!write(-1, "", 0); /* a hooked call from inside malloc */
    errno = saved;
    if (align < 16) align = 16;
    heap_lock();
    if (!heap) {
        heap = mmap(NULL, HEAP_SIZE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (heap == MAP_FAILED) abort();
    }
    size_t start = (used + 16 + align - 1) & ~(align - 1);
    if (start + n > HEAP_SIZE) abort();
    used = start + n;
    ++calls;
    heap_unlock();
    *(size_t*)(heap + start - 16) = n;
    return heap + start;
}

void* malloc(size_t n) {
    return take(n, 16);
}
void free(void* p) {
    (void)p;
}
void* calloc(size_t n, size_t size) {
    return take(n * size, 16); /* fresh mmap pages are zero */
}
void* realloc(void* p, size_t n) {
    void* q = take(n, 16);
    if (p) {
        size_t old = *(size_t*)((char*)p - 16);
        memcpy(q, p, old < n ? old : n);
    }
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

static int fds[2];

static void* producer(void* arg) {
    (void)arg;
    for (int i = 0; i < 3; ++i) {
        char* msg = malloc(32);
        int n = snprintf(msg, 32, "block %d\n", i);
        usleep(10 * 1000);
        CHECK(write(fds[1], msg, (size_t)n) == n);
        free(msg);
    }
    close(fds[1]);
    return NULL;
}

int main(void) {
    CHECK(pipe(fds) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, producer, NULL) == 0);
    char buf[128];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
    CHECK(pthread_join(t, NULL) == 0);
    printf("own malloc served the program: %s\n", calls > 0 ? "yes" : "no");
    return 0;
}
