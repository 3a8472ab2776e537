/* Blocking calls given a time so far ahead that it cannot be represented after the usual
 * arithmetic (tv_sec near the largest time_t, sleep(UINT_MAX)): natively each simply blocks.
 * A thread makes the call; after 100 ms it must still be blocked, then main releases it (a
 * signal with a handler for the sleeps, a post, a signal, an unlock, a thread's end) and
 * prints what the call returned. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"

#define FAR_SEC ((time_t)LONG_MAX)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static int pfd[2];
static volatile int started, done, cond_ready;
static pthread_t sleeper_of_join;

static void on_usr1(int sig) {
    (void)sig;
}

static const char* err_name(int e) {
    switch (e) {
        case 0:
            return "0";
        case EINTR:
            return "EINTR";
        case EINVAL:
            return "EINVAL";
        case ETIMEDOUT:
            return "ETIMEDOUT";
        case EAGAIN:
            return "EAGAIN";
        default:
            return "other";
    }
}

/* Each returns a line describing the outcome. */
static char result[128];

static void do_nanosleep(void) {
    struct timespec ts = {FAR_SEC, 999999999}, rem = {0, 0};
    int r = nanosleep(&ts, &rem);
    snprintf(result, sizeof result, "returned %d errno %s, rem > 1e9 s: %d", r,
             err_name(r ? errno : 0), rem.tv_sec > 1000000000);
}
static void do_clock_nanosleep(void) {
    struct timespec ts = {FAR_SEC, 999999999}, rem = {0, 0};
    int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem);
    snprintf(result, sizeof result, "returned %s, rem > 1e9 s: %d", err_name(r),
             rem.tv_sec > 1000000000);
}
static void do_clock_nanosleep_abs(void) {
    struct timespec ts = {FAR_SEC, 999999999};
    int r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
    snprintf(result, sizeof result, "returned %s", err_name(r));
}
static void do_clock_nanosleep_abs_mono(void) {
    struct timespec ts = {FAR_SEC, 999999999};
    int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    snprintf(result, sizeof result, "returned %s", err_name(r));
}
static void do_sleep(void) {
    unsigned r = sleep(UINT_MAX);
    snprintf(result, sizeof result, "left > UINT_MAX - 100: %d", r > UINT_MAX - 100);
}
static void do_usleep(void) {
    int r = usleep(UINT_MAX);
    snprintf(result, sizeof result, "returned %d errno %s", r, err_name(r ? errno : 0));
}
static void do_cond_timedwait(void) {
    struct timespec ts = {FAR_SEC, 999999999};
    pthread_mutex_lock(&mu);
    cond_ready = 1;
    int r = pthread_cond_timedwait(&cv, &mu, &ts);
    pthread_mutex_unlock(&mu);
    snprintf(result, sizeof result, "returned %s", err_name(r));
}
static void do_cond_clockwait(void) {
    struct timespec ts = {FAR_SEC, 999999999};
    pthread_mutex_lock(&mu);
    cond_ready = 1;
    int r = pthread_cond_clockwait(&cv, &mu, CLOCK_MONOTONIC, &ts);
    pthread_mutex_unlock(&mu);
    snprintf(result, sizeof result, "returned %s", err_name(r));
}
static void do_sem_timedwait(void) {
    struct timespec ts = {FAR_SEC, 999999999};
    int r = sem_timedwait(&sem, &ts);
    snprintf(result, sizeof result, "returned %d errno %s", r, err_name(r ? errno : 0));
}
static void do_mutex_timedlock(void) {
    struct timespec ts = {FAR_SEC, 999999999};
    int r = pthread_mutex_timedlock(&held, &ts);
    if (r == 0) pthread_mutex_unlock(&held);
    snprintf(result, sizeof result, "returned %s", err_name(r));
}
static void* wait_for_post(void* arg) {
    (void)arg;
    sem_wait(&sem);
    return (void*)"joined";
}
static void do_timedjoin(void) {
    struct timespec ts = {FAR_SEC, 999999999};
    void* ret = NULL;
    int r = pthread_timedjoin_np(sleeper_of_join, &ret, &ts);
    snprintf(result, sizeof result, "returned %s, %s", err_name(r), r == 0 ? (char*)ret : "-");
}
static void do_ppoll(void) {
    struct timespec ts = {FAR_SEC, 999999999};
    struct pollfd p = {pfd[0], POLLIN, 0};
    int r = ppoll(&p, 1, &ts, NULL);
    char c;
    if (r == 1) (void)!read(pfd[0], &c, 1);
    snprintf(result, sizeof result, "returned %d", r);
}
static void do_pselect(void) {
    struct timespec ts = {FAR_SEC, 999999999};
    fd_set r;
    FD_ZERO(&r);
    FD_SET(pfd[0], &r);
    int n = pselect(pfd[0] + 1, &r, NULL, NULL, &ts, NULL);
    char c;
    if (n == 1) (void)!read(pfd[0], &c, 1);
    snprintf(result, sizeof result, "returned %d", n);
}
static void do_sigtimedwait(void) {
    struct timespec ts = {FAR_SEC, 999999999};
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    int r = sigtimedwait(&s, NULL, &ts);
    snprintf(result, sizeof result, "returned %s", r == SIGUSR2 ? "SIGUSR2" : err_name(errno));
}

enum Release { SIGNAL, COND, POST, UNLOCK, POST_JOINED, PIPE, SIGUSR2_ };
struct op {
    const char* name;
    void (*call)(void);
    enum Release release;
};
static const struct op ops[] = {
    {"nanosleep", do_nanosleep, SIGNAL},
    {"clock_nanosleep", do_clock_nanosleep, SIGNAL},
    {"clock_nanosleep abs", do_clock_nanosleep_abs, SIGNAL},
    {"clock_nanosleep abs mono", do_clock_nanosleep_abs_mono, SIGNAL},
    {"sleep", do_sleep, SIGNAL},
    {"usleep", do_usleep, SIGNAL},
    {"pthread_cond_timedwait", do_cond_timedwait, COND},
    {"pthread_cond_clockwait", do_cond_clockwait, COND},
    {"sem_timedwait", do_sem_timedwait, POST},
    {"pthread_mutex_timedlock", do_mutex_timedlock, UNLOCK},
    {"pthread_timedjoin_np", do_timedjoin, POST_JOINED},
    {"ppoll", do_ppoll, PIPE},
    {"pselect", do_pselect, PIPE},
    {"sigtimedwait", do_sigtimedwait, SIGUSR2_},
};

static void* body(void* arg) {
    const struct op* op = arg;
    started = 1;
    op->call();
    done = 1;
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    install(SIGUSR1, on_usr1, 0);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    CHECK(pthread_sigmask(SIG_BLOCK, &usr2, NULL) == 0); /* inherited: sigtimedwait takes it */
    CHECK(sem_init(&sem, 0, 0) == 0);
    CHECK(pipe(pfd) == 0);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; ++i) {
        const struct op* op = &ops[i];
        started = done = cond_ready = 0;
        result[0] = 0;
        if (op->release == UNLOCK) pthread_mutex_lock(&held);
        if (op->release == POST_JOINED)
            CHECK(pthread_create(&sleeper_of_join, NULL, wait_for_post, NULL) == 0);
        pthread_t t;
        CHECK(pthread_create(&t, NULL, body, (void*)op) == 0);
        while (!started) usleep(1000);
        usleep(100 * 1000);
        int blocked = !done;
        switch (op->release) {
            case SIGNAL:
                pthread_kill(t, SIGUSR1);
                break;
            case COND:
                pthread_mutex_lock(&mu);
                pthread_cond_signal(&cv);
                pthread_mutex_unlock(&mu);
                break;
            case POST:
            case POST_JOINED:
                sem_post(&sem);
                break;
            case UNLOCK:
                pthread_mutex_unlock(&held);
                break;
            case PIPE:
                (void)!write(pfd[1], "x", 1);
                break;
            case SIGUSR2_:
                pthread_kill(t, SIGUSR2);
                break;
        }
        CHECK(pthread_join(t, NULL) == 0);
        printf("%-26s blocked after 100 ms: %s; %s\n", op->name, blocked ? "yes" : "no", result);
    }
    return 0;
}
