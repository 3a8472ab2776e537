/* The "signal thread" idiom: main blocks SIGINT, SIGTERM and SIGUSR1 before starting threads,
 * so every thread blocks them; one thread sigwaits for SIGINT/SIGTERM while workers keep
 * ticking. SIGINT comes from another process, SIGTERM from kill(getpid()); the sigwait thread
 * takes each exactly once and stops the workers; the process exits cleanly. Meanwhile a
 * SIGUSR1 blocked everywhere stays pending (sigpending) until a thread takes it. */
#include <sys/wait.h>

#include "common_signals.h"

static volatile int stop;
static volatile int ticks;

static void* ticker(void* arg) {
    (void)arg;
    while (!stop) {
        ++ticks;
        pause_ms(5);
    }
    return NULL;
}

static void* signal_thread(void* arg) {
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    for (;;) {
        int sig = 0;
        CHECK(sigwait(&set, &sig) == 0);
        printf("signal thread: got %s\n", sig == SIGINT    ? "SIGINT"
                                          : sig == SIGTERM ? "SIGTERM"
                                                           : "?");
        if (sig == SIGTERM) break;
    }
    stop = 1;
    return NULL;
}

static void* pending_check(void* arg) {
    (void)arg;
    sigset_t p;
    CHECK(sigpending(&p) == 0);
    printf("pending in another thread: SIGUSR1 %d\n", sigismember(&p, SIGUSR1));
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    struct timespec zero = {0, 0};
    siginfo_t info;
    const int r = sigtimedwait(&one, &info, &zero);
    printf("taken: %s, si_code SI_USER %d\n", r == SIGUSR1 ? "SIGUSR1" : "none",
           info.si_code == SI_USER);
    CHECK(sigpending(&p) == 0);
    printf("pending after: SIGUSR1 %d\n", sigismember(&p, SIGUSR1));
    return NULL;
}

int main(void) {
    alarm(20);
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);

    pthread_t sig_t, tick_t[2], check_t;
    CHECK(pthread_create(&sig_t, NULL, signal_thread, NULL) == 0);
    for (int i = 0; i < 2; ++i) CHECK(pthread_create(&tick_t[i], NULL, ticker, NULL) == 0);

    CHECK(kill(getpid(), SIGUSR1) == 0); /* blocked everywhere: stays pending */
    CHECK(pthread_create(&check_t, NULL, pending_check, NULL) == 0);
    CHECK(pthread_join(check_t, NULL) == 0);

    pause_ms(50);
    const pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        kill(getppid(), SIGINT);
        _exit(0);
    }
    CHECK(waitpid(child, NULL, 0) == child);
    pause_ms(100);
    const int before = ticks;
    pause_ms(50);
    printf("workers tick while the signal thread waits: %s\n", ticks > before ? "yes" : "no");
    CHECK(kill(getpid(), SIGTERM) == 0);

    CHECK(pthread_join(sig_t, NULL) == 0);
    for (int i = 0; i < 2; ++i) CHECK(pthread_join(tick_t[i], NULL) == 0);
    printf("clean exit\n");
    return 0;
}
