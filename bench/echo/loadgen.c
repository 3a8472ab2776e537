/* Echo load generator: one thread, epoll, N connections each keeping one 64-byte message in
 * flight. After a warm-up it measures a fixed window: round trips/s, p50/p99 latency, errors,
 * stalled connections (no round trip in the window) and, given the server's pid, the server's
 * CPU time (utime+stime from /proc) per round trip.
 * usage: loadgen HOST PORT CONNS [--warmup S] [--window S] [--size BYTES] [--server-pid PID] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/load_window.h"

typedef struct {
    int fd;
    int connected;
    size_t got;          /* bytes of the current reply received */
    uint64_t sent_ns;    /* when the current message went out */
    uint64_t window_rts; /* round trips completed inside the window */
} Conn;

static size_t msg_size = 64;
static char* message;
static uint32_t* lat; /* latencies in the window, in ns (capped) */
static size_t lat_n, lat_cap;
static uint64_t errors;

static int cmp_u32(const void* a, const void* b) {
    uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
    return x < y ? -1 : x > y;
}

static int send_message(Conn* c) {
    ssize_t n = send(c->fd, message, msg_size, MSG_NOSIGNAL);
    if (n != (ssize_t)msg_size) return -1; /* 64 bytes always fit an idle socket buffer */
    c->sent_ns = now_ns();
    c->got = 0;
    return 0;
}

static void fail(Conn* c, int ep) {
    ++errors;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
}

int main(int argc, char** argv) {
    if (argc < 4) {
        fprintf(stderr,
                "usage: %s HOST PORT CONNS [--warmup S] [--window S] [--size B] "
                "[--server-pid PID]\n",
                argv[0]);
        return 2;
    }
    const char* host = argv[1];
    int port = atoi(argv[2]), nconn = atoi(argv[3]);
    LoadOptions opt = load_options_default();
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--size"))
            msg_size = (size_t)atol(argv[i + 1]);
        else
            load_option(&opt, argv[i], argv[i + 1]);
    }
    raise_nofile_limit();

    message = malloc(msg_size);
    for (size_t i = 0; i < msg_size; ++i) message[i] = (char)('a' + i % 26);
    char* buf = malloc(msg_size);
    Conn* conns = calloc((size_t)nconn, sizeof(Conn));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "loadgen: bad host %s\n", host);
        return 2;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);

    /* Connect in batches so the server's accept backlog is not flooded. */
    int connected = 0;
    const uint64_t connect_deadline = now_ns() + 60ull * 1000000000ull;
    for (int i = 0; i < nconn;) {
        int batch_end = i + 256 < nconn ? i + 256 : nconn;
        for (int j = i; j < batch_end; ++j) {
            Conn* c = &conns[j];
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (c->fd < 0) {
                perror("loadgen: socket");
                return 1;
            }
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (connect(c->fd, (struct sockaddr*)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
                fprintf(stderr, "loadgen: connect: %s\n", strerror(errno));
                return 1;
            }
            struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)j};
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        }
        while (connected < batch_end) {
            struct epoll_event evs[256];
            int n = epoll_wait(ep, evs, 256, 1000);
            if (now_ns() > connect_deadline) {
                fprintf(stderr, "loadgen: only %d of %d connections after 60 s\n", connected,
                        nconn);
                return 1;
            }
            for (int k = 0; k < n; ++k) {
                Conn* c = &conns[evs[k].data.u32];
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) {
                    fprintf(stderr, "loadgen: connect: %s\n", strerror(err));
                    return 1;
                }
                c->connected = 1;
                ++connected;
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[k].data.u32};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            }
        }
        i = batch_end;
    }
    for (int i = 0; i < nconn; ++i)
        if (send_message(&conns[i]) < 0) fail(&conns[i], ep);

    lat_cap = 1 << 20;
    lat = malloc(lat_cap * sizeof *lat);
    LoadWindow win = load_window_new(&opt);
    load_window_arm(&win, &opt, now_ns());
    uint64_t rts = 0;
    struct epoll_event evs[512];
    for (;;) {
        if (load_window_step(&win, now_ns()) == WINDOW_DONE) break;
        int n = epoll_wait(ep, evs, 512, 10);
        for (int k = 0; k < n; ++k) {
            Conn* c = &conns[evs[k].data.u32];
            if (c->fd < 0) continue;
            ssize_t r = recv(c->fd, buf, msg_size - c->got, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                fail(c, ep);
                continue;
            }
            if (memcmp(buf, message + c->got, (size_t)r) != 0) {
                fail(c, ep);
                continue;
            }
            c->got += (size_t)r;
            if (c->got < msg_size) continue;
            uint64_t done = now_ns();
            if (win.open && done < win.end) {
                ++rts;
                ++c->window_rts;
                uint64_t d = done - c->sent_ns;
                if (lat_n == lat_cap) lat = realloc(lat, (lat_cap *= 2) * sizeof *lat);
                lat[lat_n++] = d > 0xffffffffull ? 0xffffffffu : (uint32_t)d;
            }
            if (send_message(c) < 0) fail(c, ep);
        }
    }
    int stalled = 0;
    for (int i = 0; i < nconn; ++i)
        if (conns[i].window_rts == 0) ++stalled;
    qsort(lat, lat_n, sizeof *lat, cmp_u32);
    double p50 = lat_n ? lat[lat_n / 2] / 1000.0 : 0;
    double p99 = lat_n ? lat[(size_t)((double)lat_n * 0.99)] / 1000.0 : 0;
    const double cpu = load_window_server_cpu(&win), window = opt.window;
    printf(
        "conns=%d rts=%llu window_s=%.3f rtps=%.0f p50_us=%.1f p99_us=%.1f errors=%llu "
        "stalled=%d server_cpu_s=%.3f cpu_per_rt_us=%.3f\n",
        nconn, (unsigned long long)rts, window, rts / window, p50, p99, (unsigned long long)errors,
        stalled, cpu, cpu >= 0 && rts ? cpu / (double)rts * 1e6 : -1.0);
    for (int i = 0; i < nconn; ++i)
        if (conns[i].fd >= 0) close(conns[i].fd);
    return 0;
}
