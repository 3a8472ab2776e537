/* TLS load generator: one thread, epoll, N connections over TLS (no certificate check, no
 * session resumption: every handshake is a full one).
 *   echo:      each connection keeps one 64-byte message in flight; reports round trips/s
 *   handshake: each connection connects, shakes hands, makes one round trip (so the server's
 *              side of the handshake is complete too), closes and starts over; reports
 *              connections/s
 * The warm-up starts once every connection has shaken hands (echo) or as many connections as
 * CONNS have completed (handshake), so that setting up 1,000 connections is not measured; then
 * it measures a fixed window and, given the server's pid, the server's CPU time (utime+stime
 * from /proc) per operation.
 * usage: tls_loadgen HOST PORT CONNS echo|handshake [--warmup S] [--window S] [--server-pid PID] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/load_window.h"

enum { MSG = 64 };

typedef struct {
    int fd;
    SSL* ssl;
    int handshaken;
    size_t got;
} Conn;

static SSL_CTX* ctx;
static struct sockaddr_in sa;
static int ep;
static char message[MSG];
static uint64_t errors;

static void watch(Conn* c, uint32_t id, int op, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.u32 = id};
    epoll_ctl(ep, op, c->fd, &ev);
}

static void start(Conn* c, uint32_t id) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr*)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        perror("tls_loadgen: connect");
        exit(1);
    }
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_connect_state(c->ssl);
    c->handshaken = 0;
    c->got = 0;
    watch(c, id, EPOLL_CTL_ADD, EPOLLOUT);
}

static void finish(Conn* c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    SSL_free(c->ssl);
    close(c->fd);
}

/* Waits for what OpenSSL asked for; 0 on a retry, -1 on a failure. */
static int want(Conn* c, uint32_t id, int r) {
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) return watch(c, id, EPOLL_CTL_MOD, EPOLLIN), 0;
    if (e == SSL_ERROR_WANT_WRITE) return watch(c, id, EPOLL_CTL_MOD, EPOLLOUT), 0;
    ERR_clear_error();
    return -1;
}

int main(int argc, char** argv) {
    if (argc < 5) {
        fprintf(stderr,
                "usage: %s HOST PORT CONNS echo|handshake [--warmup S] [--window S] "
                "[--server-pid PID]\n",
                argv[0]);
        return 2;
    }
    int port = atoi(argv[2]), nconn = atoi(argv[3]);
    const int handshakes = !strcmp(argv[4], "handshake");
    LoadOptions opt = load_options_default();
    for (int i = 5; i + 1 < argc; i += 2) load_option(&opt, argv[i], argv[i + 1]);
    raise_nofile_limit();
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, argv[1], &sa.sin_addr);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    memset(message, 'm', sizeof message);
    ep = epoll_create1(EPOLL_CLOEXEC);
    Conn* conns = calloc((size_t)nconn, sizeof(Conn));
    for (int i = 0; i < nconn; ++i) start(&conns[i], (uint32_t)i);

    const uint64_t ready_deadline = now_ns() + 120ull * 1000000000ull;
    LoadWindow win = load_window_new(&opt);
    uint64_t ops = 0, ready = 0;
    char buf[MSG];
    struct epoll_event evs[512];
    for (;;) {
        const uint64_t t = now_ns();
        if (!load_window_armed(&win) && (handshakes ? ops : ready) >= (uint64_t)nconn)
            load_window_arm(&win, &opt, t);
        if (!load_window_armed(&win) && t > ready_deadline) {
            fprintf(stderr, "tls_loadgen: connections not set up within 120 s\n");
            return 1;
        }
        const int step = load_window_step(&win, t);
        if (step == WINDOW_DONE) break;
        if (step == WINDOW_OPENED) ops = 0;
        int n = epoll_wait(ep, evs, 512, 10);
        for (int k = 0; k < n; ++k) {
            const uint32_t id = evs[k].data.u32;
            Conn* c = &conns[id];
            if (!c->handshaken) {
                int r = SSL_do_handshake(c->ssl);
                if (r != 1) {
                    if (want(c, id, r) < 0) ++errors, finish(c), start(c, id);
                    continue;
                }
                c->handshaken = 1;
                ++ready;
                if (SSL_write(c->ssl, message, MSG) != MSG) return fprintf(stderr, "write\n"), 1;
                watch(c, id, EPOLL_CTL_MOD, EPOLLIN);
                continue;
            }
            for (;;) {
                int r = SSL_read(c->ssl, buf, (int)(MSG - c->got));
                if (r <= 0) {
                    if (want(c, id, r) < 0) ++errors, finish(c), start(c, id);
                    break;
                }
                c->got += (size_t)r;
                if (c->got < MSG) continue;
                ++ops;
                c->got = 0;
                if (handshakes) {
                    finish(c);
                    start(c, id);
                    break;
                }
                if (SSL_write(c->ssl, message, MSG) != MSG) return fprintf(stderr, "write\n"), 1;
            }
        }
    }
    const double cpu = load_window_server_cpu(&win);
    printf("ops_per_s=%.0f errors=%llu", (double)ops / opt.window, (unsigned long long)errors);
    if (cpu >= 0 && ops) printf(" server_cpu_us_per_op=%.2f", cpu * 1e6 / (double)ops);
    printf("\n");
    return 0;
}
