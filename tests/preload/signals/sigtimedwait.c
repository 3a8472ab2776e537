/* sigtimedwait and sigwaitinfo park one thread only: a timed wait for a signal nobody sends
 * times out with EAGAIN while another thread keeps ticking; sigwaitinfo reports the signal a
 * sigqueue() sent, with its value. */
#include "common_signals.h"

static volatile int stop, ticks;

static void* ticker(void* arg) {
    (void)arg;
    while (!stop) {
        ++ticks;
        pause_ms(5);
    }
    return NULL;
}

static void* sender(void* arg) {
    (void)arg;
    pause_ms(50);
    union sigval v;
    v.sival_int = 42;
    CHECK(sigqueue(getpid(), SIGUSR2, v) == 0);
    return NULL;
}

int main(void) {
    alarm(20);
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, ticker, NULL) == 0);

    struct timespec ts = {0, 200 * 1000000L};
    const int before = ticks;
    siginfo_t info;
    int r = sigtimedwait(&set, &info, &ts);
    const int e = errno;
    printf("sigtimedwait: %d %s\n", r, err_name(r, e));
    printf("ticker ran meanwhile: %s\n", ticks - before >= 5 ? "yes" : "no");

    struct timespec bad = {0, 2000000000L};
    r = sigtimedwait(&set, &info, &bad);
    printf("bad timeout: %d %s\n", r, r < 0 && errno == EINVAL ? "EINVAL" : "?");

    pthread_t s;
    CHECK(pthread_create(&s, NULL, sender, NULL) == 0);
    memset(&info, 0, sizeof info);
    r = sigwaitinfo(&set, &info);
    printf("sigwaitinfo: %s, si_signo %s, SI_QUEUE %d, value %d\n", r == SIGUSR2 ? "SIGUSR2" : "?",
           info.si_signo == SIGUSR2 ? "SIGUSR2" : "?", info.si_code == SI_QUEUE,
           info.si_value.sival_int);
    CHECK(pthread_join(s, NULL) == 0);
    stop = 1;
    CHECK(pthread_join(t, NULL) == 0);
    return 0;
}
