#define _GNU_SOURCE
/* ppoll, pselect and epoll_pwait wait with the mask they are given in place of the thread's: a
 * worker that blocks SIGUSR1 and waits with an empty mask is interrupted (EINTR, its handler
 * runs) by a SIGUSR1 sent to it during the wait, or held for it before the call; with its own
 * mask kept (NULL), the signal stays pending until it unblocks it, and the wait times out. */
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "common_signals.h"

static volatile sig_atomic_t handled;
static volatile int entering;
static int epfd;

static void on_usr1(int sig) {
    (void)sig;
    ++handled;
}

enum { PPOLL, PSELECT, EPOLL_PWAIT };
static const char* const names[] = {"ppoll", "pselect", "epoll_pwait"};

struct job {
    int call;
    int use_mask;   /* wait with an empty mask (1) or keep the thread's (0) */
    int sent_first; /* the signal is held for the worker before it waits */
    int result, err, handled_during;
};

static int wait_once(int call, const sigset_t* mask, int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    if (call == PPOLL) return ppoll(NULL, 0, &ts, mask);
    if (call == PSELECT) return pselect(0, NULL, NULL, NULL, &ts, mask);
    struct epoll_event ev;
    return epoll_pwait(epfd, &ev, 1, ms, mask);
}

static void* worker(void* arg) {
    struct job* j = arg;
    block(SIGUSR1, SIG_BLOCK);
    __sync_fetch_and_add(&entering, 1);
    if (j->sent_first)
        while (entering < 2) pause_ms(1); /* main sent it: now pending for this thread */
    sigset_t empty;
    sigemptyset(&empty);
    const int r = wait_once(j->call, j->use_mask ? &empty : NULL, 300);
    j->err = r < 0 ? errno : 0;
    j->result = r;
    j->handled_during = handled;
    block(SIGUSR1, SIG_UNBLOCK); /* whatever is still pending runs now */
    return NULL;
}

static void run(int call, int use_mask, int sent_first) {
    struct job j = {call, use_mask, sent_first, 0, 0, 0};
    handled = 0;
    entering = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker, &j) == 0);
    while (entering < 1) pause_ms(1);
    if (sent_first) {
        pause_ms(20);
        CHECK(pthread_kill(t, SIGUSR1) == 0);
        __sync_fetch_and_add(&entering, 1);
    } else {
        pause_ms(100); /* the worker is inside the wait */
        CHECK(pthread_kill(t, SIGUSR1) == 0);
    }
    CHECK(pthread_join(t, NULL) == 0);
    printf(
        "%s, %s mask, signal %s: returned %s, handler ran %d time(s) during the call, %d in "
        "all\n",
        names[call], use_mask ? "empty" : "own", sent_first ? "held before" : "during",
        j.result < 0    ? err_name(j.result, j.err)
        : j.result == 0 ? "0 (timeout)"
                        : "ready",
        j.handled_during, (int)handled);
}

int main(void) {
    alarm(30);
    setvbuf(stdout, NULL, _IOLBF, 0);
    install(SIGUSR1, on_usr1, 0);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    CHECK(epfd >= 0);
    for (int call = PPOLL; call <= EPOLL_PWAIT; ++call) {
        run(call, 1, 0);
        run(call, 1, 1);
        run(call, 0, 0);
    }
    return 0;
}
