/* Signal masks are per thread: a worker that blocks SIGTERM does not block it for main, so a
 * process-directed SIGTERM (sent by the worker itself) runs main's handler, interrupting main's
 * pause(); the worker's own mask keeps SIGTERM, main's does not. */
#include "common_signals.h"

static pthread_t main_thread;
static volatile sig_atomic_t handled, handled_by_main;

static void on_term(int sig) {
    (void)sig;
    ++handled;
    handled_by_main = pthread_equal(pthread_self(), main_thread);
}

static void* worker(void* arg) {
    (void)arg;
    block(SIGTERM, SIG_BLOCK);
    printf("worker blocks SIGTERM: %d\n", blocked(SIGTERM));
    pause_ms(100);  /* main is in pause() by now */
    CHECK(kill(getpid(), SIGTERM) == 0);
    printf("worker still blocks SIGTERM: %d\n", blocked(SIGTERM));
    return NULL;
}

static void* child(void* arg) {
    (void)arg;
    printf("child inherits: SIGUSR1 %d, SIGTERM %d\n", blocked(SIGUSR1), blocked(SIGTERM));
    return NULL;
}

int main(void) {
    alarm(20);
    setvbuf(stdout, NULL, _IOLBF, 0);
    main_thread = pthread_self();
    install(SIGTERM, on_term, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
    const int r = pause();
    const int e = errno;
    CHECK(pthread_join(t, NULL) == 0);  /* its lines first */
    printf("main: pause %d %s, handled %d, by main %d\n", r, err_name(r, e), (int)handled,
           (int)handled_by_main);
    printf("main blocks SIGTERM: %d\n", blocked(SIGTERM));
    /* A new thread inherits its creator's mask. */
    block(SIGUSR1, SIG_BLOCK);
    CHECK(pthread_create(&t, NULL, child, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    block(SIGUSR1, SIG_UNBLOCK);
    printf("main blocks SIGUSR1 again: %d\n", blocked(SIGUSR1));
    return 0;
}
