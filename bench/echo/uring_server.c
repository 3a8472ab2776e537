/* Baseline: a plain single-threaded io_uring echo server with liburing: one accept op, and per
 * connection one recv or send op in flight; submissions batched, one io_uring_enter per turn.
 * usage: uring_server HOST PORT */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

/* EXTRA_LINES > 0 builds the footprint experiment of bench/echo/README.md: each completion also
 * touches that many more cache lines of its connection's state, as a fiber's resume touches
 * its stack frames and Fiber object, so the cost of per-connection footprint can be measured
 * on the C loop itself. The baseline is EXTRA_LINES 0. */
#ifndef EXTRA_LINES
#define EXTRA_LINES 0
#endif
/* BUF_SIZE (default 4096): each connection's receive buffer, inside its malloc'd state. */
#ifndef BUF_SIZE
#define BUF_SIZE 4096
#endif

enum { ACCEPT, RECV, SEND };
typedef struct {
    int fd;
    int kind;
#if EXTRA_LINES > 0
    char extra[EXTRA_LINES][64];
#endif
    char buf[BUF_SIZE];
} Conn;

static void touch_extra_lines(Conn* c) {
#if EXTRA_LINES > 0
    for (int i = 0; i < EXTRA_LINES; ++i) ((volatile char*)c->extra[i])[0]++;
#else
    (void)c;
#endif
}

static struct io_uring ring;
static Conn accept_op = {.kind = ACCEPT};

static struct io_uring_sqe* sqe_get(void) {
    struct io_uring_sqe* s;
    while (!(s = io_uring_get_sqe(&ring))) io_uring_submit(&ring);
    return s;
}

static void arm_recv(Conn* c) {
    struct io_uring_sqe* s = sqe_get();
    c->kind = RECV;
    io_uring_prep_recv(s, c->fd, c->buf, sizeof c->buf, 0);
    io_uring_sqe_set_data(s, c);
}

static void arm_accept(int lfd) {
    struct io_uring_sqe* s = sqe_get();
    io_uring_prep_accept(s, lfd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data(s, &accept_op);
}

int main(int argc, char** argv) {
    int lfd = bench_listen(argc, argv);
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
              IORING_SETUP_CQSIZE;
    p.cq_entries = 65536;
    int rc = io_uring_queue_init_params(4096, &ring, &p);
    if (rc == -EINVAL) { /* older kernel: no DEFER_TASKRUN */
        memset(&p, 0, sizeof p);
        p.flags = IORING_SETUP_CQSIZE;
        p.cq_entries = 65536;
        rc = io_uring_queue_init_params(4096, &ring, &p);
    }
    if (rc < 0) {
        fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-rc));
        return 1;
    }
    arm_accept(lfd);
    for (;;) {
        io_uring_submit_and_wait(&ring, 1);
        struct io_uring_cqe* cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            ++seen;
            Conn* c = io_uring_cqe_get_data(cqe);
            int res = cqe->res;
            if (c->kind != ACCEPT) touch_extra_lines(c);
            if (c->kind == ACCEPT) {
                if (res >= 0) {
                    Conn* nc = malloc(sizeof *nc);
                    nc->fd = res;
                    int one = 1;
                    setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    arm_recv(nc);
                }
                arm_accept(lfd);
            } else if (c->kind == RECV) {
                if (res <= 0) {
                    close(c->fd);
                    free(c);
                    continue;
                }
                struct io_uring_sqe* s = sqe_get();
                c->kind = SEND;
                io_uring_prep_send(s, c->fd, c->buf, (size_t)res, MSG_NOSIGNAL);
                io_uring_sqe_set_data(s, c);
            } else {
                if (res < 0) {
                    close(c->fd);
                    free(c);
                    continue;
                }
                arm_recv(c);
            }
        }
        io_uring_cq_advance(&ring, seen);
    }
}
