/* The daemon idiom after a handler is installed and a thread exists: close every descriptor
 * from 3 up, then signals must still be delivered: one sent to the process while a thread
 * waits in pause(), one while a thread sleeps, and one taken by sigwait. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "../common.h"

static volatile sig_atomic_t handled;
static volatile int waiting;

static void on_usr1(int sig) {
    (void)sig;
    ++handled;
}

static void accept_usr1(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    CHECK(pthread_sigmask(SIG_UNBLOCK, &s, NULL) == 0);
}

static void* pauser(void* arg) {
    (void)arg;
    accept_usr1();
    waiting = 1;
    int r = pause();
    printf("pause returned %d (%s), handled %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "?",
           (int)handled);
    return NULL;
}

static void* sleeper(void* arg) {
    (void)arg;
    accept_usr1();
    waiting = 1;
    unsigned left = sleep(30);
    printf("sleep interrupted: %s, handled %d\n", left > 0 ? "yes" : "no", (int)handled);
    return NULL;
}

static void* sigwaiter(void* arg) {
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    waiting = 1;
    int sig = 0;
    int r = sigwait(&s, &sig);
    printf("sigwait returned %d, signal %s\n", r, sig == SIGUSR2 ? "SIGUSR2" : "other");
    return NULL;
}

static void run(void* (*fn)(void*), int sig) {
    pthread_t t;
    waiting = 0;
    CHECK(pthread_create(&t, NULL, fn, NULL) == 0);
    while (!waiting) usleep(1000);
    usleep(30 * 1000);
    CHECK(kill(getpid(), sig) == 0);
    CHECK(pthread_join(t, NULL) == 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    install(SIGUSR1, on_usr1, 0);
    sigset_t usr1, usr2;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    CHECK(pthread_sigmask(SIG_BLOCK, &usr2, NULL) == 0); /* every thread: sigwait takes it */
    /* The main thread blocks SIGUSR1 meanwhile, so the waiting thread receives it. */
    CHECK(pthread_sigmask(SIG_BLOCK, &usr1, NULL) == 0);
    run(pauser, SIGUSR1); /* the signal machinery is set up now */
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    run(pauser, SIGUSR1);
    run(sleeper, SIGUSR1);
    run(sigwaiter, SIGUSR2);
    printf("handled %d\n", (int)handled);
    return 0;
}
