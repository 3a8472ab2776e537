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
    pause_ms(100); /* main is in pause() by now */
    CHECK(kill(getpid(), SIGTERM) == 0);
    printf("worker still blocks SIGTERM: %d\n", blocked(SIGTERM));
    return NULL;
}

static volatile sig_atomic_t usr2_in_main;
static void on_usr2(int sig) {
    (void)sig;
    usr2_in_main = pthread_equal(pthread_self(), main_thread);
}

/* pthread_kill aimed at the main thread interrupts main's sleep, not another thread's. */
static void* kicker(void* arg) {
    (void)arg;
    pause_ms(100);
    CHECK(pthread_kill(main_thread, SIGUSR2) == 0);
    return NULL;
}

static void* sleeper(void* arg) {
    (void)arg;
    struct timespec ts = {0, 400 * 1000000L};
    const int r = nanosleep(&ts, NULL);
    printf("other sleeper: %d %s\n", r, err_name(r, errno));
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
    CHECK(pthread_join(t, NULL) == 0); /* its lines first */
    printf("main: pause %d %s, handled %d, by main %d\n", r, err_name(r, e), (int)handled,
           (int)handled_by_main);
    printf("main blocks SIGTERM: %d\n", blocked(SIGTERM));
    /* A new thread inherits its creator's mask. */
    block(SIGUSR1, SIG_BLOCK);
    CHECK(pthread_create(&t, NULL, child, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    block(SIGUSR1, SIG_UNBLOCK);
    printf("main blocks SIGUSR1 again: %d\n", blocked(SIGUSR1));

    install(SIGUSR2, on_usr2, 0);
    pthread_t k, s;
    CHECK(pthread_create(&s, NULL, sleeper, NULL) == 0);
    CHECK(pthread_create(&k, NULL, kicker, NULL) == 0);
    struct timespec ts = {5, 0};
    const int r2 = nanosleep(&ts, NULL);
    const int e2 = errno;
    CHECK(pthread_join(k, NULL) == 0);
    CHECK(pthread_join(s, NULL) == 0);
    printf("main: nanosleep %d %s, handler in main %d\n", r2, err_name(r2, e2), (int)usr2_in_main);
    return 0;
}
