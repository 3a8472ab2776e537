/* A select(2)-driven echo server thread and five client threads in one process, on 127.0.0.1. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common.h"

#define CLIENTS 5
#define ROUNDS 20

static int listener;
static int port;
static volatile int stop;
static int served_connections, served_messages;
static int round_trips[CLIENTS];

static void* server(void* arg) {
    (void)arg;
    int conns[CLIENTS];
    int n = 0;
    while (!stop) {
        fd_set r;
        FD_ZERO(&r);
        FD_SET(listener, &r);
        int maxfd = listener;
        for (int i = 0; i < n; ++i)
            if (conns[i] >= 0) {
                FD_SET(conns[i], &r);
                if (conns[i] > maxfd) maxfd = conns[i];
            }
        struct timeval tv = {0, 50 * 1000};
        int ready = select(maxfd + 1, &r, NULL, NULL, &tv);
        CHECK(ready >= 0);
        if (FD_ISSET(listener, &r) && n < CLIENTS) {
            conns[n++] = accept(listener, NULL, NULL);
            ++served_connections;
        }
        for (int i = 0; i < n; ++i) {
            if (conns[i] < 0 || !FD_ISSET(conns[i], &r)) continue;
            char buf[64];
            ssize_t got = recv(conns[i], buf, sizeof buf, 0);
            if (got <= 0) {
                close(conns[i]);
                conns[i] = -1;
                continue;
            }
            CHECK(send(conns[i], buf, (size_t)got, 0) == got);
            ++served_messages;
        }
    }
    return NULL;
}

static void* client(void* arg) {
    int id = (int)(long)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    CHECK(connect(fd, (struct sockaddr*)&a, sizeof a) == 0);
    for (int i = 0; i < ROUNDS; ++i) {
        char msg[32], back[32];
        int len = snprintf(msg, sizeof msg, "c%d-m%02d", id, i);
        CHECK(send(fd, msg, (size_t)len, 0) == len);
        CHECK(recv(fd, back, (size_t)len, MSG_WAITALL) == len);
        round_trips[id] += memcmp(msg, back, (size_t)len) == 0;
        usleep(1000);
    }
    close(fd);
    return NULL;
}

int main(void) {
    struct sockaddr_in a;
    listener = listen_loopback(16, &a);
    port = ntohs(a.sin_port);

    pthread_t s, c[CLIENTS];
    CHECK(pthread_create(&s, NULL, server, NULL) == 0);
    for (long i = 0; i < CLIENTS; ++i) CHECK(pthread_create(&c[i], NULL, client, (void*)i) == 0);
    report_os_threads();
    for (int i = 0; i < CLIENTS; ++i) {
        CHECK(pthread_join(c[i], NULL) == 0);
        printf("client %d: %d/%d round trips echoed\n", i, round_trips[i], ROUNDS);
    }
    usleep(100 * 1000); /* let the server see the closes */
    stop = 1;
    CHECK(pthread_join(s, NULL) == 0);
    printf("server: %d connections, %d messages\n", served_connections, served_messages);
    return 0;
}
