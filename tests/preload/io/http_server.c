/* A tiny blocking HTTP server for the curl test: prints "port N", then answers COUNT requests
 * (one at a time, Connection: close) with the same page, and exits. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common.h"

int main(int argc, char** argv) {
    int count = argc > 1 ? atoi(argv[1]) : 1;
    struct sockaddr_in a;
    int lfd = listen_loopback(16, &a);
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);

    char body[4096] = "";
    for (int i = 0; i < 60; ++i) strcat(body, "hello from the preload test server\n");
    char head[256];
    int head_len = snprintf(head, sizeof head,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n",
                            strlen(body));
    for (int i = 0; i < count; ++i) {
        int c = accept(lfd, NULL, NULL);
        CHECK(c >= 0);
        char req[4096];
        size_t used = 0;
        while (used < sizeof req - 1) {
            ssize_t n = recv(c, req + used, sizeof req - 1 - used, 0);
            if (n <= 0) break;
            used += (size_t)n;
            req[used] = 0;
            if (strstr(req, "\r\n\r\n")) break;
        }
        CHECK(send(c, head, (size_t)head_len, 0) == head_len);
        CHECK(send(c, body, strlen(body), 0) == (ssize_t)strlen(body));
        close(c);
    }
    close(lfd);
    return 0;
}
