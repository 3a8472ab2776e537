/* 10 threads each fork a child that runs 200 ms and waitpid it, while a ticker thread sleeps
 * 20 ms at a time. Natively the waits overlap and the ticker keeps its cadence; under the shim
 * only the waiting fibers may park, not the hub. */
#include <sys/wait.h>

#include "wait_common.h"

enum { kWaiters = 10 };

static void* waiter(void* arg) {
    int code = (int)(long)arg;
    pid_t pid = child_exiting(200, code);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == code);
    return NULL;
}

int main(void) {
    pthread_t tick, t[kWaiters];
    CHECK(pthread_create(&tick, NULL, ticker, NULL) == 0);
    usleep(50 * 1000);
    long t0 = now_ms();
    for (long i = 0; i < kWaiters; ++i)
        CHECK(pthread_create(&t[i], NULL, waiter, (void*)(i + 1)) == 0);
    for (int i = 0; i < kWaiters; ++i) CHECK(pthread_join(t[i], NULL) == 0);
    long elapsed = now_ms() - t0;
    fprintf(stderr, "info: elapsed_ms=%ld\n", elapsed);
    ticker_report(tick);
    printf("children: %d reaped, %s\n", kWaiters,
           elapsed < kWaiters * 200 / 2 ? "overlapped" : "serial");
    return 0;
}
