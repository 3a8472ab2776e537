/* A small memcached load generator (text protocol, 127.0.0.1 only): C connections spread over T
 * threads, each thread driving its connections through epoll with one request outstanding per
 * connection. Requests are 90% "get" and 10% "set" over K keys with V-byte values (the keys are
 * set once first, so every get hits). It stops after R requests in all and prints one line:
 *     requests=R seconds=S rps=X errors=E client_cpu_us_per_request=U waits_per_request=W
 * (its own CPU time, user + system, and how many epoll_wait calls it made, per request: a server
 * whose replies come one at a time wakes the load generator more often than one that sends them
 * in bursts).
 * An error is a reply that is not the one the protocol gives (STORED, or VALUE...END with the
 * value set). usage: memcached_load PORT [--conns C] [--threads T] [--requests R] [--keys K]
 *                                       [--value V] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kBuf = 4096 };

static int port, conns = 50, threads = 2, keys = 1000, value_len = 32;
static long requests = 200000;
static atomic_long issued, completed, errors, epoll_waits;
static char value[1024];

struct conn {
    int fd;
    int is_get;
    size_t have;
    char buf[kBuf];
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_seconds(const struct rusage* ru) {
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
           (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

static int dial(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr*)&a, sizeof a) != 0) {
        perror("memcached_load: connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void send_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            perror("memcached_load: send");
            exit(1);
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Builds request number `seq` for connection c; returns its length. */
static int request(struct conn* c, unsigned seq, char* out) {
    const unsigned key = (seq * 2654435761u) % (unsigned)keys;
    c->is_get = seq % 10 != 0;
    c->have = 0;
    if (c->is_get) return sprintf(out, "get key:%u\r\n", key);
    return sprintf(out, "set key:%u 0 0 %d\r\n%s\r\n", key, value_len, value);
}

/* A whole reply in c->buf: 1 (good), -1 (bad), 0 (not yet complete). */
static int reply_done(const struct conn* c) {
    if (c->have < 2 || memcmp(c->buf + c->have - 2, "\r\n", 2) != 0) return 0;
    if (!c->is_get) return c->have == 8 && memcmp(c->buf, "STORED\r\n", 8) == 0 ? 1 : -1;
    if (c->have < 5 || memcmp(c->buf + c->have - 5, "END\r\n", 5) != 0) return 0;
    /* VALUE key:N 0 32\r\n<value>\r\nEND\r\n */
    const char* nl = memchr(c->buf, '\n', c->have);
    if (strncmp(c->buf, "VALUE ", 6) != 0 || !nl) return -1;
    const size_t body = (size_t)(nl + 1 - c->buf);
    if (c->have != body + (size_t)value_len + 7) return -1;
    return memcmp(c->buf + body, value, (size_t)value_len) == 0 ? 1 : -1;
}

static void* driver(void* arg) {
    const int n = (int)(long)arg;
    int ep = epoll_create1(0);
    struct conn* cs = calloc((size_t)n, sizeof *cs);
    char out[2048];
    unsigned seq = (unsigned)(long)&cs; /* differs per thread */
    int active = 0;
    for (int i = 0; i < n; ++i) {
        cs[i].fd = dial();
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
        if (atomic_fetch_add(&issued, 1) < requests) {
            send_all(cs[i].fd, out, (size_t)request(&cs[i], seq++, out));
            ++active;
        }
    }
    struct epoll_event evs[64];
    long waits = 0;
    while (active > 0) {
        int k = epoll_wait(ep, evs, 64, -1);
        ++waits;
        for (int j = 0; j < k; ++j) {
            struct conn* c = evs[j].data.ptr;
            ssize_t r = recv(c->fd, c->buf + c->have, kBuf - c->have, 0);
            if (r <= 0) {
                fprintf(stderr, "memcached_load: connection closed\n");
                exit(1);
            }
            c->have += (size_t)r;
            int done = reply_done(c);
            if (done == 0 && c->have < kBuf) continue;
            if (done != 1) atomic_fetch_add(&errors, 1);
            atomic_fetch_add(&completed, 1);
            if (atomic_fetch_add(&issued, 1) < requests)
                send_all(c->fd, out, (size_t)request(c, seq++, out));
            else
                --active;
        }
    }
    atomic_fetch_add(&epoll_waits, waits);
    for (int i = 0; i < n; ++i) close(cs[i].fd);
    free(cs);
    close(ep);
    return NULL;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr,
                "usage: memcached_load PORT [--conns C] [--threads T] [--requests R] "
                "[--keys K] [--value V]\n");
        return 2;
    }
    port = atoi(argv[1]);
    for (int i = 2; i + 1 < argc; i += 2) {
        const char* o = argv[i];
        const long v = atol(argv[i + 1]);
        if (!strcmp(o, "--conns"))
            conns = (int)v;
        else if (!strcmp(o, "--threads"))
            threads = (int)v;
        else if (!strcmp(o, "--requests"))
            requests = v;
        else if (!strcmp(o, "--keys"))
            keys = (int)v;
        else if (!strcmp(o, "--value"))
            value_len = (int)v;
        else {
            fprintf(stderr, "memcached_load: unknown option %s\n", o);
            return 2;
        }
    }
    if (value_len < 1 || value_len >= (int)sizeof value || threads < 1 || conns < threads) {
        fprintf(stderr, "memcached_load: bad --value, --threads or --conns\n");
        return 2;
    }
    memset(value, 'v', (size_t)value_len);

    /* Every key once, so that gets hit. */
    struct conn c = {.fd = dial()};
    char out[2048];
    for (int k = 0; k < keys; ++k) {
        int n = sprintf(out, "set key:%d 0 0 %d\r\n%s\r\n", k, value_len, value);
        send_all(c.fd, out, (size_t)n);
        c.is_get = 0;
        c.have = 0;
        while (!reply_done(&c)) {
            ssize_t r = recv(c.fd, c.buf + c.have, kBuf - c.have, 0);
            if (r <= 0) return 1;
            c.have += (size_t)r;
        }
    }
    close(c.fd);

    pthread_t t[64];
    if (threads > 64) threads = 64;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    const double t0 = now_s();
    for (int i = 0; i < threads; ++i) {
        const int share = conns / threads + (i < conns % threads);
        pthread_create(&t[i], NULL, driver, (void*)(long)share);
    }
    for (int i = 0; i < threads; ++i) pthread_join(t[i], NULL);
    const double s = now_s() - t0;
    getrusage(RUSAGE_SELF, &ru1);
    const long done = atomic_load(&completed);
    const double cpu_s = cpu_seconds(&ru1) - cpu_seconds(&ru0);
    printf(
        "requests=%ld seconds=%.3f rps=%.0f errors=%ld client_cpu_us_per_request=%.2f "
        "waits_per_request=%.3f\n",
        done, s, done / s, atomic_load(&errors), done ? cpu_s * 1e6 / done : 0.0,
        done ? (double)atomic_load(&epoll_waits) / done : 0.0);
    return atomic_load(&errors) ? 1 : 0;
}
