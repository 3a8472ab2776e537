/* Baseline: a plain single-threaded epoll echo server, level-triggered, the way one writes it
 * by hand in C. usage: epoll_server HOST PORT
 * BUF_SIZE (default 4096) is the size of its one receive buffer, shared by all connections. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#ifndef BUF_SIZE
#define BUF_SIZE 4096
#endif

int main(int argc, char** argv) {
    int lfd = bench_listen(argc, argv);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event evs[512];
    char buf[BUF_SIZE];
    for (;;) {
        int n = epoll_wait(ep, evs, 512, -1);
        for (int i = 0; i < n; ++i) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    int one = 1;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r > 0) {
                /* One small message in flight: the send buffer always has room. */
                if (write(fd, buf, (size_t)r) == r) continue;
            } else if (r < 0 && errno == EAGAIN) {
                continue;
            }
            close(fd);
        }
    }
}
