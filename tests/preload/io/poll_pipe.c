/* poll(2) on a pipe fed by another thread: every message arrives, a poll with a timeout on an
 * empty pipe times out, and the end of the stream shows as POLLHUP then EOF. */
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"

static int fds[2];

static void* writer(void* arg) {
    (void)arg;
    for (int i = 0; i < 5; ++i) {
        char msg[32];
        usleep(20 * 1000);
        int n = snprintf(msg, sizeof msg, "message %d\n", i);
        CHECK(write(fds[1], msg, (size_t)n) == n);
    }
    return NULL;
}

static long ms_since(const struct timespec* t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(void) {
    CHECK(pipe(fds) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, writer, NULL) == 0);
    report_os_threads();
    int lines = 0;
    while (lines < 5) {
        struct pollfd p = {fds[0], POLLIN, 0};
        int r = poll(&p, 1, 5000);
        if (r != 1 || !(p.revents & POLLIN)) {
            printf("poll returned %d, revents %d\n", r, p.revents);
            return 1;
        }
        char buf[256];
        ssize_t n = read(fds[0], buf, sizeof buf - 1);
        CHECK(n > 0);
        buf[n] = 0;
        for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n';
        fputs(buf, stdout);
    }
    CHECK(pthread_join(t, NULL) == 0);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct pollfd p = {fds[0], POLLIN, 0};
    int r = poll(&p, 1, 100);
    printf("poll on an empty pipe: %d after at least 100 ms: %s\n", r,
           ms_since(&t0) >= 100 ? "yes" : "no");

    close(fds[1]);
    r = poll(&p, 1, 5000);
    char c;
    printf("after the writer closed: poll %d, hangup %s, read %zd\n", r,
           (p.revents & POLLHUP) ? "yes" : "no", read(fds[0], &c, 1));
    return 0;
}
