/* A thread blocked in waitpid and a handled signal sent to it: without SA_RESTART the call fails
 * with EINTR (and a second waitpid reaps the child); with SA_RESTART it keeps waiting and
 * returns the child; a SIGCHLD handler does not fail the wait its child's exit ends.
 * pthread_cancel ends a thread blocked in waitpid (a cancellation point).
 * The signalled rounds' child exits only when the gate opens, after the handler ran: a child
 * that exited on its own clock (300 ms) raced the signal on a loaded machine. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "../gate.h"
#include "wait_common.h"

static volatile sig_atomic_t handled;
static void on_usr1(int sig) {
    (void)sig;
    handled = handled + 1;
}

static pid_t child;
static struct gate gate;
static volatile int waiter_calling; /* set just before the waiter's waitpid */

static void* waiter(void* arg) {
    (void)arg;
    int status = 0;
    errno = 0;
    __atomic_store_n(&waiter_calling, 1, __ATOMIC_RELEASE);
    pid_t r = waitpid(child, &status, 0);
    if (r < 0) {
        printf("waitpid: -1 %s\n", errno == EINTR ? "EINTR" : strerror(errno));
        r = waitpid(child, &status, 0);
    } else {
        printf("waitpid: the child\n");
    }
    CHECK(r == child);
    printf("code=%d handled=%d\n", WEXITSTATUS(status), (int)handled);
    return NULL;
}

/* Safety nets of 10 s, not speed bounds: a flag that never comes shows in the output. */
static void wait_for_flag(volatile int* flag) {
    for (int k = 0; k < 10000 && !__atomic_load_n(flag, __ATOMIC_ACQUIRE); ++k) usleep(1000);
}

static void round_with(int flags, const char* name) {
    install(SIGUSR1, on_usr1, flags);
    handled = 0;
    waiter_calling = 0;
    gate_make(&gate);
    child = fork();
    CHECK(child >= 0);
    if (child == 0) _exit(gate_wait_in_forked_child(&gate) ? 4 : 124);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, NULL) == 0);
    /* The waiter said it is calling waitpid; 100 ms later it is blocked in it. */
    wait_for_flag(&waiter_calling);
    usleep(100 * 1000);
    printf("%s:\n", name);
    fflush(stdout);
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    /* The child may end only once the signal was taken: a child already gone would win over it
     * (waitpid returns a waitable child before it looks at signals). */
    wait_for_flag((volatile int*)&handled);
    gate_open(&gate);
    CHECK(pthread_join(t, NULL) == 0);
    gate_remove(&gate);
}

static void* cancelled(void* arg) {
    (void)arg;
    int status;
    waitpid(child, &status, 0);
    printf("not cancelled\n");
    return NULL;
}

static volatile sig_atomic_t chld;
static void on_chld(int sig) {
    (void)sig;
    chld = chld + 1;
}

/* SIGCHLD handled without SA_RESTART: the exit that sends it also ends the wait, and a waitable
 * child wins over the signal, so the waits return the child (one pid, and any child). */
static void* chld_waiter(void* arg) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    CHECK(pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0);
    int status = 0;
    pid_t r = waitpid(arg ? -1 : child, &status, 0);
    printf("%s: %s code=%d\n", arg ? "any child" : "one child", r == child ? "the child" : "other",
           WEXITSTATUS(status));
    return NULL;
}

static void sigchld_round(void) {
    install(SIGCHLD, on_chld, 0);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    CHECK(pthread_sigmask(SIG_BLOCK, &set, &old) == 0); /* the waiter alone takes SIGCHLD */
    for (long any = 0; any < 2; ++any) {
        child = child_exiting(100, 6);
        pthread_t t;
        CHECK(pthread_create(&t, NULL, chld_waiter, (void*)any) == 0);
        CHECK(pthread_join(t, NULL) == 0);
    }
    CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
    printf("SIGCHLD handled: %s\n", chld >= 1 ? "yes" : "no");
    signal(SIGCHLD, SIG_DFL);
}

int main(void) {
    round_with(0, "no SA_RESTART");
    round_with(SA_RESTART, "SA_RESTART");
    sigchld_round();

    child = child_exiting(10000, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, cancelled, NULL) == 0);
    usleep(50 * 1000);
    CHECK(pthread_cancel(t) == 0);
    void* res = NULL;
    CHECK(pthread_join(t, &res) == 0);
    printf("cancel: %s\n", res == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "returned");
    CHECK(kill(child, SIGKILL) == 0);
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    printf("killed: sig=%d\n", WTERMSIG(status));
    return 0;
}
