/* A reaper thread collects 5 children that exit 60 ms apart with wait calls for "any child"
 * (waitpid -1, wait, wait3, wait4, waitid P_ALL), then a process-group round (waitpid 0 and
 * -pgid), then sees ECHILD; a ticker thread keeps its cadence meanwhile. */
#include <errno.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "wait_common.h"

enum { kChildren = 5 };

static int reap(int how) {
    int status = 0;
    pid_t r = -1;
    switch (how) {
        case 0:
            r = waitpid(-1, &status, 0);
            break;
        case 1:
            r = wait(&status);
            break;
        case 2: {
            struct rusage ru;
            r = wait3(&status, 0, &ru);
            break;
        }
        case 3:
            r = wait4(-1, &status, 0, NULL);
            break;
        case 4: {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (waitid(P_ALL, 0, &si, WEXITED) != 0) return -1;
            CHECK(si.si_code == CLD_EXITED);
            return si.si_status;
        }
        case 5:
            r = waitpid(0, &status, 0);
            break;
        default:
            r = waitpid(-getpgrp(), &status, 0);
            break;
    }
    if (r <= 0) return -1;
    CHECK(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void* reaper(void* arg) {
    (void)arg;
    for (int i = 0; i < kChildren; ++i) printf("reaped exit %d\n", reap(i));
    child_exiting(60, 21);
    child_exiting(120, 22);
    printf("group: exit %d\n", reap(5));
    printf("group: exit %d\n", reap(6));
    int status;
    errno = 0;
    pid_t r = waitpid(-1, &status, 0);
    printf("no children: %d %s\n", (int)r, errno == ECHILD ? "ECHILD" : strerror(errno));
    errno = 0;
    r = wait(&status);
    printf("wait, no children: %d %s\n", (int)r, errno == ECHILD ? "ECHILD" : strerror(errno));
    return NULL;
}

int main(void) {
    pthread_t tick, r;
    /* exit codes in exit order: 11, 12, ..., forked in the reverse order */
    for (int i = kChildren - 1; i >= 0; --i) child_exiting(100 + 60 * i, 11 + i);
    CHECK(pthread_create(&tick, NULL, ticker, NULL) == 0);
    CHECK(pthread_create(&r, NULL, reaper, NULL) == 0);
    CHECK(pthread_join(r, NULL) == 0);
    ticker_report(tick);
    return 0;
}
