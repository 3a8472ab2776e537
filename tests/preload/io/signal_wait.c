/* A timer signal interrupts blocking waits: poll, select and sleep return early (EINTR, or the
 * seconds left) while another thread exists, and the handler runs once per signal. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/time.h>
#include <unistd.h>

#include "../common.h"

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) {
    (void)sig;
    ++alarms;
}

static volatile int stop;

static void* idle(void* arg) {
    (void)arg;
    while (!stop) usleep(10 * 1000);
    return NULL;
}

static void arm(int ms) {
    struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

int main(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, idle, NULL) == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);

    int p[2];
    CHECK(pipe(p) == 0);
    arm(50);
    struct pollfd pf = {p[0], POLLIN, 0};
    int r = poll(&pf, 1, 10000);
    printf("poll: %d (%s), alarms %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "?", (int)alarms);

    arm(50);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv = {10, 0};
    r = select(p[0] + 1, &rs, NULL, NULL, &tv);
    printf("select: %d (%s), alarms %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "?", (int)alarms);

    arm(50);
    unsigned left = sleep(10);
    printf("sleep(10) returned early: %s, alarms %d\n", left >= 8 ? "yes" : "no", (int)alarms);

    stop = 1;
    CHECK(pthread_join(t, NULL) == 0);
    return 0;
}
