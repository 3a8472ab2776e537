/* A reaper thread collects 5 children with wait calls for "any child" (waitpid -1, wait, wait3,
 * wait4, waitid P_ALL), then a process-group round (waitpid 0 and -pgid), then sees ECHILD. Each
 * child exits only when a releaser thread lets it go, once the reaper has reaped the one before
 * and a ticker thread has then moved 3 more ticks: under the shim a wait that blocked the hub
 * would stop the ticker and the releaser, and the child would never exit (the alarm ends it). */
#include <errno.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../ticker.h"

enum { kChildren = 5, kAll = kChildren + 2 };

/* A child that exits with its code once released (a byte on its pipe). Only the released child
 * can exit, so a wait for "any child" has one answer whatever the load: children that exited on
 * their own timers were once reaped in swapped order when the machine was loaded (a late timer,
 * or a reaper that ran late while two were zombies: the kernel then answers with the one forked
 * first). */
struct held {
    int release; /* the pipe's write end; -1 until the child exists */
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
        _exit(code);
    }
    close(p[0]);
    return (struct held){p[1]};
}

static void release(struct held* h) {
    CHECK(write(h->release, "x", 1) == 1);
    close(h->release);
}

/* The children in release order (the first 5 forked by main, the group's 2 by the reaper), and
 * how many the reaper has reaped. */
static struct held children[kAll];
static int reaped;

static void* releaser(void* arg) {
    (void)arg;
    for (int i = 0; i < kAll; ++i) {
        for (int w = 0; w < 10000 && (__atomic_load_n(&reaped, __ATOMIC_ACQUIRE) < i ||
                                      __atomic_load_n(&children[i].release, __ATOMIC_ACQUIRE) < 0);
             ++w)
            usleep(1000);
        late_moved += ticker_moved(ticks_now(), 3);
        release(&children[i]);
    }
    return NULL;
}

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
        printf("reaped exit %d\n", reap(i));
        __atomic_store_n(&reaped, i + 1, __ATOMIC_RELEASE);
    }
    for (int i = kChildren; i < kAll; ++i)
        __atomic_store_n(&children[i].release, child_held(21 + i - kChildren).release,
                         __ATOMIC_RELEASE);
    for (int i = kChildren; i < kAll; ++i) {
        printf("group: exit %d\n", reap(i));
        __atomic_store_n(&reaped, i + 1, __ATOMIC_RELEASE);
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
    alarm(60); /* a hub blocked by a wait ends here, not at the test's timeout */
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t rel, r;
    for (int i = kChildren; i < kAll; ++i) children[i].release = -1;
    /* exit codes in release order: 11, 12, ..., forked in the reverse order */
    for (int i = kChildren - 1; i >= 0; --i) children[i] = child_held(11 + i);
    ticker_start();
    CHECK(pthread_create(&rel, NULL, releaser, NULL) == 0);
    CHECK(pthread_create(&r, NULL, reaper, NULL) == 0);
    CHECK(pthread_join(r, NULL) == 0);
    CHECK(pthread_join(rel, NULL) == 0);
    ticker_finish();
    printf("the releaser saw the ticker move: %d of %d times\n", late_moved, kAll);
    return 0;
}
