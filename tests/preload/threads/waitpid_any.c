/* A reaper thread collects 5 children, each exiting 60 ms after the reaper released it, with
 * wait calls for "any child" (waitpid -1, wait, wait3, wait4, waitid P_ALL), then a
 * process-group round (waitpid 0 and -pgid), then sees ECHILD; a ticker thread keeps its cadence
 * meanwhile. */
#include <errno.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "wait_common.h"

enum { kChildren = 5 };

/* A child that exits with its code 60 ms after the reaper releases it (a byte on its pipe).
 * Only the released child can exit, so a wait for "any child" has one answer whatever the load:
 * children that exited on their own timers were once reaped in swapped order when the machine
 * was loaded (a late timer, or a reaper that ran late while two were zombies: the kernel then
 * answers with the one forked first). */
struct held {
    int release; /* the pipe's write end */
};

static struct held child_held(int code) {
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) { /* raw system calls only, as child_exiting */
        struct pollfd pfd = {p[0], POLLIN, 0};
        struct timespec limit = {30, 0}; /* a parent that died never releases it */
        syscall(SYS_ppoll, &pfd, 1, &limit, NULL, 0);
        struct timespec ts = {0, 60 * 1000000L};
        syscall(SYS_nanosleep, &ts, NULL);
        _exit(code);
    }
    close(p[0]);
    return (struct held){p[1]};
}

static void release(struct held* h) {
    CHECK(write(h->release, "x", 1) == 1);
    close(h->release);
}

static struct held children[kChildren];

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
    for (int i = 0; i < kChildren; ++i) {
        release(&children[i]);
        printf("reaped exit %d\n", reap(i));
    }
    struct held group[2] = {child_held(21), child_held(22)};
    for (int i = 0; i < 2; ++i) {
        release(&group[i]);
        printf("group: exit %d\n", reap(5 + i));
    }
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
    /* exit codes in release order: 11, 12, ..., forked in the reverse order */
    for (int i = kChildren - 1; i >= 0; --i) children[i] = child_held(11 + i);
    CHECK(pthread_create(&tick, NULL, ticker, NULL) == 0);
    CHECK(pthread_create(&r, NULL, reaper, NULL) == 0);
    CHECK(pthread_join(r, NULL) == 0);
    ticker_report(tick);
    return 0;
}
