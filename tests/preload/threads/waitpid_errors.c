/* The wait calls' answers, from a thread (a fiber under the shim): ECHILD for a non-child and
 * with no children, EINVAL for bad options, WNOHANG on a running child, the status word (exit
 * code, killed by a signal, stopped, continued), waitid with WNOWAIT then waitpid, waitid on a
 * pidfd, errno untouched by a successful wait, and SIGCHLD ignored (children reap themselves). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "wait_common.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* "what: result errno" (errno read before anything else can change it). */
static void show(const char* what, long r) {
    int e = errno;
    printf("%s: %ld %s\n", what, r, e == ECHILD ? "ECHILD" : e == EINVAL ? "EINVAL" : strerror(e));
}

static void* body(void* arg) {
    (void)arg;
    int status = 0;
    errno = 0;
    show("non-child pid 1", waitpid(1, &status, 0));
    errno = 0;
    show("no children", waitpid(-1, &status, 0));
    siginfo_t si;
    errno = 0;
    show("waitid no children", waitid(P_ALL, 0, &si, WEXITED));

    pid_t pid = child_exiting(100, 7);
    errno = 0;
    show("bad options", waitpid(pid, &status, 0x100));
    errno = 0;
    show("waitid no flags", waitid(P_PID, (id_t)pid, &si, 0));
    printf("WNOHANG while running: %d\n", (int)waitpid(pid, &status, WNOHANG));
    errno = 4242;
    CHECK(waitpid(pid, &status, 0) == pid);
    printf("errno after success: %d\n", errno);
    printf("exit: exited=%d code=%d\n", WIFEXITED(status), WEXITSTATUS(status));
    errno = 0;
    show("again", waitpid(pid, &status, 0));

    pid = child_exiting(10000, 0);
    usleep(20 * 1000);
    CHECK(kill(pid, SIGKILL) == 0);
    CHECK(waitpid(pid, &status, 0) == pid);
    printf("killed: signaled=%d sig=%d\n", WIFSIGNALED(status), WTERMSIG(status));

    pid = child_exiting(50, 5);
    memset(&si, 0, sizeof si);
    CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
    printf("waitid WNOWAIT: pid ok=%d code=%s status=%d\n", si.si_pid == pid,
           si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_status);
    memset(&si, 0, sizeof si);
    CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
    printf("waitid WNOWAIT again: status=%d\n", si.si_status);
    CHECK(waitpid(pid, &status, 0) == pid);
    printf("then waitpid: code=%d\n", WEXITSTATUS(status));

    /* waitid on a pidfd; one opened with PIDFD_NONBLOCK (Linux 5.10) fails with EAGAIN while
       the child runs. Without pidfds both lines are printed as expected (same kernel both runs). */
    pid = child_exiting(50, 9);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    memset(&si, 0, sizeof si);
    if (pidfd >= 0) {
        CHECK(waitid((idtype_t)3 /* P_PIDFD */, (id_t)pidfd, &si, WEXITED) == 0);
        close(pidfd);
    } else {
        CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED) == 0);
    }
    printf("waitid pidfd: status=%d\n", si.si_status);
    pid = child_exiting(50, 8);
    pidfd = (int)syscall(SYS_pidfd_open, pid, O_NONBLOCK);
    if (pidfd >= 0) {
        errno = 0;
        show("waitid nonblocking pidfd", waitid((idtype_t)3, (id_t)pidfd, &si, WEXITED));
        close(pidfd);
    } else {
        errno = EAGAIN;
        show("waitid nonblocking pidfd", -1);
    }
    CHECK(waitpid(pid, &status, 0) == pid);

    /* stopped and continued */
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
        struct timespec ts = {0, 30 * 1000000L};
        syscall(SYS_nanosleep, &ts, NULL);
        _exit(3);
    }
    CHECK(waitpid(pid, &status, WUNTRACED) == pid);
    printf("stopped: %d sig=%d\n", WIFSTOPPED(status), WSTOPSIG(status));
    CHECK(kill(pid, SIGCONT) == 0);
    CHECK(waitpid(pid, &status, WCONTINUED) == pid);
    printf("continued: %d\n", WIFCONTINUED(status));
    CHECK(waitpid(pid, &status, WUNTRACED | WCONTINUED) == pid);
    printf("then exit: code=%d\n", WEXITSTATUS(status));

    /* SIGCHLD ignored: the child reaps itself, the wait ends with ECHILD once it is gone */
    CHECK(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
    pid = child_exiting(80, 1);
    long t0 = now_ms();
    errno = 0;
    show("SIG_IGN", waitpid(pid, &status, 0));
    printf("SIG_IGN waited for the child: %s\n", now_ms() - t0 >= 60 ? "yes" : "no");
    CHECK(signal(SIGCHLD, SIG_DFL) != SIG_ERR);
    return NULL;
}

int main(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, body, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    return 0;
}
