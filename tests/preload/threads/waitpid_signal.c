/* A thread blocked in waitpid and a handled signal sent to it: without SA_RESTART the call fails
 * with EINTR (and a second waitpid reaps the child); with SA_RESTART it keeps waiting and
 * returns the child. pthread_cancel ends a thread blocked in waitpid (a cancellation point). */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "wait_common.h"

static volatile sig_atomic_t handled;
static void on_usr1(int sig) {
    (void)sig;
    handled = handled + 1;
}

static pid_t child;
static void* waiter(void* arg) {
    (void)arg;
    int status = 0;
    errno = 0;
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

static void round_with(int flags, const char* name) {
    install(SIGUSR1, on_usr1, flags);
    handled = 0;
    child = child_exiting(300, 4);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, NULL) == 0);
    usleep(100 * 1000);
    printf("%s:\n", name);
    fflush(stdout);
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    CHECK(pthread_join(t, NULL) == 0);
}

static void* cancelled(void* arg) {
    (void)arg;
    int status;
    waitpid(child, &status, 0);
    printf("not cancelled\n");
    return NULL;
}

int main(void) {
    round_with(0, "no SA_RESTART");
    round_with(SA_RESTART, "SA_RESTART");

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
