/* A thread-per-connection echo server on 127.0.0.1, driven by 2,000 client threads that are
   all connected at once (each waits at a barrier before talking). Natively that is 4,000 OS
   threads; under the shim it is a handful. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common.h"

enum { kMessages = 10, kSize = 64 };
static int clients = 2000;
static int listen_fd;
static struct sockaddr_in addr;
static pthread_barrier_t all_connected;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int ok_clients;
static long echoed_bytes;
static int peak_threads;

static int read_full(int fd, char* p, int n) {
    int got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r <= 0) return -1;
        got += (int)r;
    }
    return 0;
}

static void* serve(void* arg) {
    int fd = (int)(long)arg;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        if (write(fd, buf, (size_t)n) != n) break;
        pthread_mutex_lock(&mu);
        echoed_bytes += n;
        pthread_mutex_unlock(&mu);
    }
    close(fd);
    return NULL;
}

static void* acceptor(void* arg) {
    (void)arg;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < clients; ++i) {
        int fd = accept(listen_fd, NULL, NULL);
        CHECK(fd >= 0);
        pthread_t t;
        CHECK(pthread_create(&t, &attr, serve, (void*)(long)fd) == 0);
    }
    pthread_attr_destroy(&attr);
    return NULL;
}

static void* client(void* arg) {
    long id = (long)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK(connect(fd, (struct sockaddr*)&addr, sizeof addr) == 0);
    if (pthread_barrier_wait(&all_connected) == PTHREAD_BARRIER_SERIAL_THREAD) {
        int n = os_threads();
        pthread_mutex_lock(&mu);
        peak_threads = n;
        pthread_mutex_unlock(&mu);
    }
    int good = 1;
    for (int m = 0; m < kMessages && good; ++m) {
        char out[kSize], in[kSize];
        for (int i = 0; i < kSize; ++i) out[i] = (char)('a' + (id + m + i) % 26);
        good = write(fd, out, kSize) == kSize && read_full(fd, in, kSize) == 0 &&
               memcmp(in, out, kSize) == 0;
    }
    close(fd);
    pthread_mutex_lock(&mu);
    ok_clients += good;
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(int argc, char** argv) {
    if (argc > 1) clients = atoi(argv[1]);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)(2 * clients + 64)) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    CHECK(rl.rlim_cur >= (rlim_t)(2 * clients + 64));
    listen_fd = listen_loopback(4096, &addr);
    CHECK(pthread_barrier_init(&all_connected, NULL, (unsigned)clients) == 0);

    long t0 = now_ms();
    pthread_t acc;
    CHECK(pthread_create(&acc, NULL, acceptor, NULL) == 0);
    pthread_t* t = calloc((size_t)clients, sizeof *t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (long i = 0; i < clients; ++i) CHECK(pthread_create(&t[i], &attr, client, (void*)i) == 0);
    for (int i = 0; i < clients; ++i) CHECK(pthread_join(t[i], NULL) == 0);
    CHECK(pthread_join(acc, NULL) == 0);
    fprintf(stderr, "info: os_threads=%d\n", peak_threads);
    fprintf(stderr, "info: elapsed_ms=%ld\n", now_ms() - t0);
    /* Server threads may still be writing their last bytes' bookkeeping: wait for them. */
    for (int i = 0; i < 2000; ++i) {
        pthread_mutex_lock(&mu);
        long b = echoed_bytes;
        pthread_mutex_unlock(&mu);
        if (b == (long)clients * kMessages * kSize) break;
        usleep(1000);
    }
    printf("clients: %d ok: %d echoed bytes: %ld\n", clients, ok_clients, echoed_bytes);
    free(t);
    return 0;
}
