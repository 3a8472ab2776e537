/* Shared bits of the preload test programs: plain C that knows nothing of green. Their stdout
 * must be identical natively and under the shim; "info:" lines on stderr carry what may differ
 * (the OS thread count, timings). */
#ifndef PRELOAD_COMMON_H
#define PRELOAD_COMMON_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* "Threads:" of /proc/self/status: the OS threads of this process (-1 if unreadable). */
static inline int os_threads(void) {
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Threads:", 8) == 0) n = atoi(line + 8);
    fclose(f);
    return n;
}

static inline void report_os_threads(void) {
    fprintf(stderr, "info: os_threads=%d\n", os_threads());
}

/* A fresh directory /tmp/TAG.XXXXXX (written into dir) and the path of a file "data" in it;
 * remove_temp_file removes both. */
static inline void make_temp_file_path(const char* tag, char dir[64], char path[80]) {
    snprintf(dir, 64, "/tmp/%s.XXXXXX", tag);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(path, 80, "%s/data", dir);
}

static inline void remove_temp_file(const char* dir, const char* path) {
    unlink(path);
    rmdir(dir);
}

static inline long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

/* A TCP listener on 127.0.0.1 with a port the kernel picks; *bound gets its address. */
static inline int listen_loopback(int backlog, struct sockaddr_in* bound) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr*)&a, sizeof a) == 0);
    CHECK(listen(fd, backlog) == 0);
    socklen_t len = sizeof a;
    CHECK(getsockname(fd, (struct sockaddr*)&a, &len) == 0);
    *bound = a;
    return fd;
}

/* sigaction(sig) with handler fn, an empty sa_mask and these flags. */
static inline void install(int sig, void (*fn)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(sig, &sa, NULL) == 0);
}

#endif
