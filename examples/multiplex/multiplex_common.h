/* What the seed's IO-multiplexing servers share: the command line "[host] [port] [clients]",
 * the listening socket, the "Connect from" line and one client message (printed, then answered
 * upper-cased, which is what examples/net/hello_clients checks). Plain C, nothing of green. */
#ifndef MULTIPLEX_COMMON_H
#define MULTIPLEX_COMMON_H

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct server_args {
    const char* host;
    int port;
    long clients; /* stop once this many clients have left; 0: serve forever */
};

static inline struct server_args parse_args(int argc, char** argv, int default_port) {
    struct server_args a = {"127.0.0.1", default_port, 0};
    if (argc > 1) a.host = argv[1];
    if (argc > 2) a.port = atoi(argv[2]);
    if (argc > 3) a.clients = atol(argv[3]);
    if (argc > 4 || a.port < 0 || a.port > 65535 || a.clients < 0) {
        fprintf(stderr, "usage: %s [host] [port] [clients]\n", argv[0]);
        exit(2);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    return a;
}

/* An IPv4 listener with SO_REUSEADDR; exits with a message on failure. */
static inline int listen_on(const char* host, int port) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "%s: not an IPv4 address\n", host);
        exit(2);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (fd < 0 || bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(fd, 512) != 0) {
        perror("listen");
        exit(1);
    }
    return fd;
}

static inline int bound_port(int fd) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr*)&addr, &len);
    return ntohs(addr.sin_port);
}

/* accept() and the seed's "Connect from ('ip', port)"; -1 on failure (reported). */
static inline int accept_client(int listener) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int c = accept4(listener, (struct sockaddr*)&peer, &len, SOCK_CLOEXEC);
    if (c < 0) {
        perror("accept");
        return -1;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    printf("Connect from ('%s', %d)\n", ip, ntohs(peer.sin_port));
    return c;
}

/* Upper-cases `data` in place and prints it as the seed's print(data). */
static inline void take_message(char* data, size_t n) {
    printf("%.*s\n", (int)n, data);
    for (size_t i = 0; i < n; ++i) data[i] = (char)toupper((unsigned char)data[i]);
}

/* Sends all of data (the client socket is blocking); 0 on success. */
static inline int send_all(int fd, const char* data, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One message from a readable blocking client: printed and answered. 0 when the client has
 * left (end of stream or an error), 1 otherwise. */
static inline int serve_message(int fd) {
    char buf[1024];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) < 0 && errno == EINTR) {
    }
    if (n <= 0) return 0;
    take_message(buf, (size_t)n);
    return send_all(fd, buf, (size_t)n) == 0;
}

static inline void print_summary(long clients, long messages) {
    printf("served %ld clients, %ld messages\n", clients, messages);
}

#endif
