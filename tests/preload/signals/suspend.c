/* sigsuspend swaps the calling thread's mask for the wait: a SIGUSR1 sent to a worker that
 * blocks it stays pending for that worker (sigpending shows it, main's does not) until its
 * sigsuspend unblocks it and the handler runs in the worker; the mask comes back afterwards. A
 * second sigsuspend waits until a process-directed SIGUSR1 arrives (main blocks it, so the
 * worker is the one to take it; under --hubs 2 the worker's hub thread must hand it to the
 * worker, not take it itself). */
#include "common_signals.h"

static pthread_t worker_thread;
static volatile sig_atomic_t handled, in_worker;
static volatile int step;

static void on_usr1(int sig) {
    (void)sig;
    ++handled;
    in_worker = pthread_equal(pthread_self(), worker_thread);
}

static void wait_step(int s) {
    while (step < s) pause_ms(1);
}

static void* worker(void* arg) {
    (void)arg;
    block(SIGUSR1, SIG_BLOCK);
    step = 1;
    wait_step(2); /* main sent it */
    sigset_t p, empty;
    /* Pending at once natively; under --hubs 2 a pthread_kill from another hub reaches this
     * thread at its hub's next turn (hooks/README.md, Several hubs): looked at until it shows
     * (10 s at most, a safety net). */
    for (int k = 0; k < 10000; ++k) {
        CHECK(sigpending(&p) == 0);
        if (sigismember(&p, SIGUSR1)) break;
        pause_ms(1);
    }
    printf("worker: SIGUSR1 pending %d, handled %d\n", sigismember(&p, SIGUSR1), (int)handled);
    sigemptyset(&empty);
    int r = sigsuspend(&empty);
    int e = errno;
    printf("worker: sigsuspend %d %s, handled %d in worker %d, still blocked %d\n", r,
           err_name(r, e), (int)handled, (int)in_worker, blocked(SIGUSR1));
    step = 3;
    r = sigsuspend(&empty);
    e = errno;
    printf("worker: sigsuspend %d %s, handled %d in worker %d\n", r, err_name(r, e), (int)handled,
           (int)in_worker);
    return NULL;
}

int main(void) {
    alarm(20);
    setvbuf(stdout, NULL, _IOLBF, 0);
    install(SIGUSR1, on_usr1, 0);
    CHECK(pthread_create(&worker_thread, NULL, worker, NULL) == 0);
    wait_step(1);
    CHECK(pthread_kill(worker_thread, SIGUSR1) == 0);
    sigset_t p;
    CHECK(sigpending(&p) == 0);
    printf("main: SIGUSR1 pending %d\n", sigismember(&p, SIGUSR1));
    step = 2;
    wait_step(3);
    block(SIGUSR1, SIG_BLOCK);
    pause_ms(100); /* the worker is in its second sigsuspend */
    in_worker = 0;
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(pthread_join(worker_thread, NULL) == 0);
    return 0;
}
