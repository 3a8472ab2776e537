/* Baseline: thread-per-connection with blocking sockets, the classic way.
 * usage: threads_server HOST PORT */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

static void* serve(void* arg) {
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)r) != r) break;
    close(fd);
    return NULL;
}

int main(int argc, char** argv) {
    int lfd = bench_listen(argc, argv);
    fcntl(lfd, F_SETFL, 0); /* blocking accept */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) continue;
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        if (pthread_create(&t, &attr, serve, (void*)(intptr_t)c) != 0) close(c);
    }
}
