/* The daemon idiom after threads exist: close every descriptor from 3 up (a loop, then
 * close_range, then closefrom), then threads talk over pipes with blocking reads and writes.
 * Under greenrun the hub's own descriptors must survive all three and the I/O must still work. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "../common.h"

static int p[2];

static void* echo_back(void* arg) {
    int* back = arg;
    char buf[32];
    for (;;) {
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n <= 0) break;
        CHECK(write(back[1], buf, (size_t)n) == n);
    }
    return NULL;
}

static void* idle(void* arg) {
    (void)arg;
    return NULL;
}

static void round_trip(const char* how) {
    int back[2];
    pthread_t t;
    CHECK(pipe(p) == 0 && pipe(back) == 0);
    CHECK(pthread_create(&t, NULL, echo_back, back) == 0);
    for (int i = 0; i < 3; ++i) {
        char msg[32], got[32];
        int n = snprintf(msg, sizeof msg, "%s %d", how, i);
        usleep(5 * 1000); /* the reader is blocked in read by now */
        CHECK(write(p[1], msg, (size_t)n) == n);
        CHECK(read(back[0], got, sizeof got) == n);
        printf("%.*s\n", n, got);
    }
    close(p[1]);
    CHECK(pthread_join(t, NULL) == 0);
    close(p[0]);
    close(back[0]);
    close(back[1]);
}

int main(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, idle, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    round_trip("before");
    fflush(stdout);
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    round_trip("after close loop");
    fflush(stdout);
    CHECK(close_range(3, ~0u, 0) == 0);
    round_trip("after close_range");
    fflush(stdout);
    closefrom(3);
    round_trip("after closefrom");
    return 0;
}
