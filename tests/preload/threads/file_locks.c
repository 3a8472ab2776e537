/* File locks that wait (flock, fcntl F_SETLKW / F_OFD_SETLKW, lockf F_LOCK) between threads and
 * a child process, while a ticker thread keeps its 20 ms cadence: under the shim the waiting
 * thread must not stop the others (a second thread's flock on a file held by a sleeping thread
 * used to deadlock the process). Also: EINTR without SA_RESTART, restart with it, pthread_cancel
 * of fcntl/lockf waits, and the errors, all as natively. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wait_common.h"

static char path[64];

static int open_file(void) {
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    return fd;
}

/* A child that takes `how` on its own open of the file (raw system calls: it must not run the
 * parent's other threads), says so on a pipe, holds it ms milliseconds, then exits. */
enum how { kFlock, kPosix };
static pid_t child_holding(enum how how, int ms) {
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        long r =
            how == kFlock ? syscall(SYS_flock, fd, LOCK_EX) : syscall(SYS_fcntl, fd, F_SETLK, &fl);
        if (fd < 0 || r != 0) _exit(3);
        (void)!syscall(SYS_write, p[1], "x", 1);
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        syscall(SYS_nanosleep, &ts, NULL);
        _exit(0);
    }
    close(p[1]);
    char c;
    CHECK(read(p[0], &c, 1) == 1);
    close(p[0]);
    return pid;
}

static void reap(pid_t pid) {
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int posix_lock(int fd, int cmd) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    return fcntl(fd, cmd, &fl);
}

/* ---- threads against threads ---------------------------------------------------------- */

static void* flock_second(void* arg) {
    (void)arg;
    int fd = open_file();
    long t0 = now_ms();
    CHECK(flock(fd, LOCK_EX) == 0);
    long waited = now_ms() - t0;
    fprintf(stderr, "info: second thread waited %ld ms\n", waited);
    printf("second thread: locked after the holder's sleep: %s\n", waited >= 150 ? "yes" : "no");
    CHECK(flock(fd, LOCK_UN) == 0);
    close(fd);
    return NULL;
}

static void thread_flock(void) {
    int fd = open_file();
    CHECK(flock(fd, LOCK_EX) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, flock_second, NULL) == 0);
    int fd2 = open_file();
    errno = 0;
    int rc = flock(fd2, LOCK_EX | LOCK_NB);
    printf("LOCK_NB on the held file: %d %s\n", rc,
           errno == EWOULDBLOCK ? "EWOULDBLOCK" : strerror(errno));
    close(fd2);
    usleep(200 * 1000); /* hold it while sleeping */
    CHECK(flock(fd, LOCK_UN) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    close(fd);
}

static void* ofd_second(void* arg) {
    (void)arg;
    int fd = open_file();
    long t0 = now_ms();
    CHECK(posix_lock(fd, F_OFD_SETLKW) == 0);
    printf("F_OFD_SETLKW: waited for the other thread: %s\n", now_ms() - t0 >= 150 ? "yes" : "no");
    close(fd);
    return NULL;
}

static void thread_ofd(void) {
    int fd = open_file();
    CHECK(posix_lock(fd, F_OFD_SETLKW) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, ofd_second, NULL) == 0);
    usleep(200 * 1000);
    close(fd); /* drops the OFD lock */
    CHECK(pthread_join(t, NULL) == 0);
}

/* ---- threads against a child process ---------------------------------------------------- */

enum call { kCallFlock, kCallSetlkw, kCallLockf };
static const char* call_name[] = {"flock", "fcntl(F_SETLKW)", "lockf(F_LOCK)"};

static int lock_with(enum call c, int fd) {
    switch (c) {
        case kCallFlock:
            return flock(fd, LOCK_EX);
        case kCallSetlkw:
            return posix_lock(fd, F_SETLKW);
        default:
            return lockf(fd, F_LOCK, 0);
    }
}

struct waiter_arg {
    enum call call;
    int fd;
    int rc, err;
};

static void* lock_waiter(void* p) {
    struct waiter_arg* a = p;
    errno = 0;
    a->rc = lock_with(a->call, a->fd);
    a->err = errno;
    return NULL;
}

static void child_contention(enum call c) {
    pid_t pid = child_holding(c == kCallFlock ? kFlock : kPosix, 300);
    struct waiter_arg a = {c, open_file(), 0, 0};
    long t0 = now_ms();
    pthread_t t;
    CHECK(pthread_create(&t, NULL, lock_waiter, &a) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    printf("%s against a child: rc=%d, waited for its exit: %s\n", call_name[c], a.rc,
           now_ms() - t0 >= 200 ? "yes" : "no");
    reap(pid);
    close(a.fd);
}

/* ---- signals and cancellation ------------------------------------------------------------ */

static volatile sig_atomic_t handled;
static void on_usr1(int sig) {
    (void)sig;
    handled = handled + 1;
}

static void signal_round(enum call c, int flags) {
    install(SIGUSR1, on_usr1, flags);
    handled = 0;
    pid_t pid = child_holding(c == kCallFlock ? kFlock : kPosix, 300);
    struct waiter_arg a = {c, open_file(), 0, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, lock_waiter, &a) == 0);
    usleep(100 * 1000);
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    printf("%s, signal %s SA_RESTART: rc=%d %s handled=%d\n", call_name[c],
           flags ? "with" : "without", a.rc, a.rc ? strerror(a.err) : "locked", (int)handled);
    reap(pid);
    close(a.fd);
}

static void* cancelled_waiter(void* p) {
    struct waiter_arg* a = p;
    lock_with(a->call, a->fd);
    printf("not cancelled\n");
    return NULL;
}

static void cancel_round(enum call c) {
    pid_t pid = child_holding(kPosix, 200);
    struct waiter_arg a = {c, open_file(), 0, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, cancelled_waiter, &a) == 0);
    usleep(50 * 1000);
    CHECK(pthread_cancel(t) == 0);
    void* ret = NULL;
    CHECK(pthread_join(t, &ret) == 0);
    printf("%s: cancelled while waiting: %s\n", call_name[c],
           ret == PTHREAD_CANCELED ? "yes" : "no");
    reap(pid);
    close(a.fd);
}

static void result(const char* what, int rc) {
    int e = errno;
    printf("%s: %d %s\n", what, rc, rc < 0 ? strerror(e) : "");
}

static void errors(void) {
    result("flock(-1)", flock(-1, LOCK_EX));
    int fd = open_file();
    result("flock(bad op)", flock(fd, 0));
    result("F_SETLKW(-1)", posix_lock(-1, F_SETLKW));
    result("lockf(-1, F_LOCK)", lockf(-1, F_LOCK, 0));
    struct flock fl = {.l_type = 77, .l_whence = SEEK_SET};
    result("F_SETLKW bad type", fcntl(fd, F_SETLKW, &fl));
    errno = 12345;
    CHECK(flock(fd, LOCK_EX) == 0 && errno == 12345); /* errno untouched on success */
    close(fd);
}

int main(void) {
    snprintf(path, sizeof path, "/tmp/green_file_locks_%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "0123456789", 10) == 10);
    close(fd);
    setvbuf(stdout, NULL, _IOLBF, 0);

    pthread_t tick;
    CHECK(pthread_create(&tick, NULL, ticker, NULL) == 0);
    thread_flock();
    thread_ofd();
    for (int c = kCallFlock; c <= kCallLockf; ++c) child_contention((enum call)c);
    for (int c = kCallFlock; c <= kCallLockf; ++c) {
        signal_round((enum call)c, 0);
        signal_round((enum call)c, SA_RESTART);
    }
    cancel_round(kCallSetlkw);
    cancel_round(kCallLockf);
    errors();
    ticker_report(tick);
    unlink(path);
    return 0;
}
