/* Baseline: a plain C epoll loop with OpenSSL in non-blocking mode, echoing over TLS.
 * usage: tls_epoll_server HOST PORT CERT KEY */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../echo/listen.h"

typedef struct {
    int fd;
    SSL* ssl;
    int handshaken;
} Conn;

static int ep;

static void drop(Conn* c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    SSL_free(c->ssl);
    close(c->fd);
    free(c);
}

/* 1: wait for what OpenSSL asked for; 0: the connection is done. */
static int retry(Conn* c, int r) {
    int e = SSL_get_error(c->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return 0;
    }
    struct epoll_event ev = {.events = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT,
                             .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    return 1;
}

static void serve(Conn* c) {
    if (!c->handshaken) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            if (!retry(c, r)) drop(c);
            return;
        }
        c->handshaken = 1;
    }
    char buf[16384];
    for (;;) {
        int r = SSL_read(c->ssl, buf, sizeof buf);
        if (r <= 0) {
            if (!retry(c, r)) drop(c);
            return;
        }
        /* Replies this small always fit an idle socket buffer. */
        if (SSL_write(c->ssl, buf, r) != r) {
            drop(c);
            return;
        }
    }
}

int main(int argc, char** argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT CERT KEY\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* OpenSSL's socket BIO writes with write(2) */
    int lfd = bench_listen(argc, argv);
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ctx, argv[3]) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, argv[4], SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    struct epoll_event evs[512];
    for (;;) {
        int n = epoll_wait(ep, evs, 512, -1);
        for (int i = 0; i < n; ++i) {
            Conn* c = evs[i].data.ptr;
            if (c) {
                serve(c);
                continue;
            }
            int fd;
            while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                c = calloc(1, sizeof *c);
                c->fd = fd;
                c->ssl = SSL_new(ctx);
                SSL_set_fd(c->ssl, fd);
                SSL_set_accept_state(c->ssl);
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            }
        }
    }
}
