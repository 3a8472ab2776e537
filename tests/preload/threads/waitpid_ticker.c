/* 10 threads each fork a child and waitpid it, while a ticker thread ticks. The children wait at
 * a gate that opens once every thread forked and the ticker then moved 3 ticks: natively the
 * waits overlap and the ticker moves; under the shim only the waiting fibers may park, not the
 * hub (a wait that held it would stop the ticker, and the children would give up at the gate
 * with status 99). Overlap is counted, not timed: how many waits had begun when the first
 * ended. */
#include <sys/wait.h>

#include "../gate.h"

enum { kWaiters = 10 };

static struct gate gate;
static struct overlap waits = OVERLAP_INIT;

static void* waiter(void* arg) {
    int code = (int)(long)arg;
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(gate_wait_in_forked_child(&gate) ? code : 99);
    overlap_enter(&waits);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    overlap_woke(&waits);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == code);
    return NULL;
}

int main(void) {
    pthread_t t[kWaiters];
    ticker_start();
    gate_make(&gate);
    long t0 = now_ms();
    for (long i = 0; i < kWaiters; ++i)
        CHECK(pthread_create(&t[i], NULL, waiter, (void*)(i + 1)) == 0);
    const int ticked = gate_open_after_ticks(&gate, &waits, kWaiters);
    for (int i = 0; i < kWaiters; ++i) CHECK(pthread_join(t[i], NULL) == 0);
    fprintf(stderr, "info: elapsed_ms=%ld\n", now_ms() - t0);
    ticker_finish();
    gate_remove(&gate);
    printf("ticker %s\n", ticked ? "ok" : "held up");
    printf("children: %d reaped, %s\n", kWaiters,
           waits.first_wake_saw == kWaiters ? "overlapped" : "serial");
    return 0;
}
