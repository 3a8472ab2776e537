/* The wait calls' answers, from a thread (a fiber under the shim): ECHILD for a non-child and
 * with no children, EINVAL for bad options, WNOHANG on a running child, the status word (exit
 * code, killed by a signal, stopped, continued), waitid with WNOWAIT then waitpid, waitid on a
 * pidfd, errno untouched by a successful wait, and SIGCHLD ignored (children reap themselves).
 * What must find a child still running (WNOHANG, a nonblocking pidfd, a continued child, the
 * wait with SIGCHLD ignored) finds one held at a gate, opened only afterwards, never one racing a
 * clock: a loaded machine once let a 50 ms child exit first. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "../gate.h"
#include "wait_common.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* "what: result errno" (errno read before anything else can change it). */
static void show(const char* what, long r) {
    int e = errno;
    printf("%s: %ld %s\n", what, r, e == ECHILD ? "ECHILD" : e == EINVAL ? "EINVAL" : strerror(e));
}

/* fork a child that exits with code once g opens (or after the gate's 10 s safety net, with
 * code 100 + code: the output then differs). */
static pid_t child_at_gate(const struct gate* g, int code) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(gate_wait_in_forked_child(g) ? code : 100 + code);
    return pid;
}

/* Opens the gate after a while, so that the wait of the thread that made the child has begun
 * (the order is not needed for the answer: the child cannot end before the gate opens). */
static struct gate ign_gate;
static int ign_opened;
static void* open_later(void* arg) {
    (void)arg;
    usleep(30 * 1000);
    __atomic_store_n(&ign_opened, 1, __ATOMIC_RELEASE);
    gate_open(&ign_gate);
    return NULL;
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

    struct gate g;
    gate_make(&g);
    pid_t pid = child_at_gate(&g, 7);
    errno = 0;
    show("bad options", waitpid(pid, &status, 0x100));
    errno = 0;
    show("waitid no flags", waitid(P_PID, (id_t)pid, &si, 0));
    printf("WNOHANG while running: %d\n", (int)waitpid(pid, &status, WNOHANG));
    gate_open(&g);
    errno = 4242;
    CHECK(waitpid(pid, &status, 0) == pid);
    printf("errno after success: %d\n", errno);
    printf("exit: exited=%d code=%d\n", WIFEXITED(status), WEXITSTATUS(status));
    errno = 0;
    show("again", waitpid(pid, &status, 0));
    gate_remove(&g);

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
    gate_make(&g);
    pid = child_at_gate(&g, 8);
    pidfd = (int)syscall(SYS_pidfd_open, pid, O_NONBLOCK);
    if (pidfd >= 0) {
        errno = 0;
        show("waitid nonblocking pidfd", waitid((idtype_t)3, (id_t)pidfd, &si, WEXITED));
        close(pidfd);
    } else {
        errno = EAGAIN;
        show("waitid nonblocking pidfd", -1);
    }
    gate_open(&g);
    CHECK(waitpid(pid, &status, 0) == pid);
    gate_remove(&g);

    /* stopped and continued: the child exits only after its continuation was reported */
    gate_make(&g);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
        _exit(gate_wait_in_forked_child(&g) ? 3 : 103);
    }
    CHECK(waitpid(pid, &status, WUNTRACED) == pid);
    printf("stopped: %d sig=%d\n", WIFSTOPPED(status), WSTOPSIG(status));
    CHECK(kill(pid, SIGCONT) == 0);
    CHECK(waitpid(pid, &status, WCONTINUED) == pid);
    printf("continued: %d\n", WIFCONTINUED(status));
    gate_open(&g);
    CHECK(waitpid(pid, &status, WUNTRACED | WCONTINUED) == pid);
    printf("then exit: code=%d\n", WEXITSTATUS(status));
    gate_remove(&g);

    /* SIGCHLD ignored: the child reaps itself, the wait ends with ECHILD once it is gone, which
     * is after another thread opened its gate */
    CHECK(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
    gate_make(&ign_gate);
    pid = child_at_gate(&ign_gate, 1);
    pthread_t opener;
    CHECK(pthread_create(&opener, NULL, open_later, NULL) == 0);
    errno = 0;
    show("SIG_IGN", waitpid(pid, &status, 0));
    printf("SIG_IGN waited for the child: %s\n",
           __atomic_load_n(&ign_opened, __ATOMIC_ACQUIRE) ? "yes" : "no");
    CHECK(pthread_join(opener, NULL) == 0);
    gate_remove(&ign_gate);
    CHECK(signal(SIGCHLD, SIG_DFL) != SIG_ERR);
    return NULL;
}

int main(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, body, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    return 0;
}
