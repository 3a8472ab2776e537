/* File locks that wait (flock, fcntl F_SETLKW / F_OFD_SETLKW, lockf F_LOCK) between threads and
 * a child process, while a ticker thread ticks: each holder lets go only once the ticker has
 * moved 10 ticks after the waiter started waiting, so under the shim a wait that stopped the
 * hub would never end (the alarm ends that run), and the waiter counts the ticks it waited
 * through (a second thread's flock on a file held by a sleeping thread used to deadlock the
 * process). Also: EINTR without SA_RESTART, restart with it, pthread_cancel of fcntl/lockf
 * waits, and the errors, all as natively. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../ticker.h"

static char path[64];

static int open_file(void) {
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    return fd;
}

/* A child that takes `how` on its own open of the file (raw system calls: it must not run the
 * parent's other threads), says so on a pipe, holds it until the parent writes a byte to *go
 * (release_child), then exits. */
enum how { kFlock, kPosix };
static pid_t child_holding(enum how how, int* go) {
    int p[2], g[2];
    CHECK(pipe(p) == 0 && pipe(g) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        syscall(SYS_close, g[1]);
        int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        long r =
            how == kFlock ? syscall(SYS_flock, fd, LOCK_EX) : syscall(SYS_fcntl, fd, F_SETLK, &fl);
        if (fd < 0 || r != 0) _exit(3);
        (void)!syscall(SYS_write, p[1], "x", 1);
        char c;
        (void)!syscall(SYS_read, g[0], &c, 1);
        _exit(0);
    }
    close(p[1]);
    close(g[0]);
    char c;
    CHECK(read(p[0], &c, 1) == 1);
    close(p[0]);
    *go = g[1];
    return pid;
}

static void release_child(int go) {
    CHECK(write(go, "x", 1) == 1);
    close(go);
}

/* A waiter's progress: `started` once it is about to wait (ticks then in t0), `released` set by
 * the holder just before it lets go; when the lock came, the ticks (t1) and whether the holder
 * had let go by then. */
struct wait_ticks {
    volatile int started, released;
    long t0, t1;
    int after_release;
};

static void about_to_wait(struct wait_ticks* w) {
    w->t0 = ticks_now();
    __atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
}

/* The holder's side: once the waiter is about to wait, until the ticker has moved 10 ticks. */
static void hold_while_ticking(struct wait_ticks* w) {
    while (!__atomic_load_n(&w->started, __ATOMIC_ACQUIRE)) usleep(1000);
    CHECK(ticker_moved(ticks_now(), 10));
    __atomic_store_n(&w->released, 1, __ATOMIC_RELEASE);
}

static void got_lock(struct wait_ticks* w) {
    w->t1 = ticks_now();
    w->after_release = __atomic_load_n(&w->released, __ATOMIC_ACQUIRE);
}

/* "yes" when the lock came after the holder let go, with the ticker 10 ticks on. */
static const char* waited(const struct wait_ticks* w) {
    fprintf(stderr, "info: waited %ld ticks\n", w->t1 - w->t0);
    return w->after_release && w->t1 - w->t0 >= 10 ? "yes" : "no";
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

static struct wait_ticks second;

static void* flock_second(void* arg) {
    (void)arg;
    int fd = open_file();
    about_to_wait(&second);
    CHECK(flock(fd, LOCK_EX) == 0);
    got_lock(&second);
    printf("second thread: locked after the holder let go, the ticker moving: %s\n",
           waited(&second));
    CHECK(flock(fd, LOCK_UN) == 0);
    close(fd);
    return NULL;
}

static void thread_flock(void) {
    int fd = open_file();
    CHECK(flock(fd, LOCK_EX) == 0);
    second = (struct wait_ticks){0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, flock_second, NULL) == 0);
    int fd2 = open_file();
    errno = 0;
    int rc = flock(fd2, LOCK_EX | LOCK_NB);
    printf("LOCK_NB on the held file: %d %s\n", rc,
           errno == EWOULDBLOCK ? "EWOULDBLOCK" : strerror(errno));
    close(fd2);
    hold_while_ticking(&second);
    CHECK(flock(fd, LOCK_UN) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    close(fd);
}

static void* ofd_second(void* arg) {
    (void)arg;
    int fd = open_file();
    about_to_wait(&second);
    CHECK(posix_lock(fd, F_OFD_SETLKW) == 0);
    got_lock(&second);
    printf("F_OFD_SETLKW: waited for the other thread: %s\n", waited(&second));
    close(fd);
    return NULL;
}

static void thread_ofd(void) {
    int fd = open_file();
    CHECK(posix_lock(fd, F_OFD_SETLKW) == 0);
    second = (struct wait_ticks){0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, ofd_second, NULL) == 0);
    hold_while_ticking(&second);
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
    struct wait_ticks w;
};

static void* lock_waiter(void* p) {
    struct waiter_arg* a = p;
    errno = 0;
    about_to_wait(&a->w);
    a->rc = lock_with(a->call, a->fd);
    a->err = errno;
    got_lock(&a->w);
    return NULL;
}

static void child_contention(enum call c) {
    int go;
    pid_t pid = child_holding(c == kCallFlock ? kFlock : kPosix, &go);
    struct waiter_arg a = {c, open_file(), 0, 0, {0}};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, lock_waiter, &a) == 0);
    hold_while_ticking(&a.w);
    release_child(go);
    CHECK(pthread_join(t, NULL) == 0);
    printf("%s against a child: rc=%d, waited for its exit, the ticker moving: %s\n", call_name[c],
           a.rc, waited(&a.w));
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
    int go;
    pid_t pid = child_holding(c == kCallFlock ? kFlock : kPosix, &go);
    struct waiter_arg a = {c, open_file(), 0, 0, {0}};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, lock_waiter, &a) == 0);
    while (!__atomic_load_n(&a.w.started, __ATOMIC_ACQUIRE)) usleep(1000);
    usleep(100 * 1000); /* into its wait */
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    /* Without SA_RESTART the wait ends with EINTR; with it, it goes on until the child lets go. */
    if (flags == 0) CHECK(pthread_join(t, NULL) == 0);
    release_child(go);
    if (flags != 0) CHECK(pthread_join(t, NULL) == 0);
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
    int go;
    pid_t pid = child_holding(kPosix, &go);
    struct waiter_arg a = {c, open_file(), 0, 0, {0}};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, cancelled_waiter, &a) == 0);
    usleep(50 * 1000);
    CHECK(pthread_cancel(t) == 0);
    void* ret = NULL;
    CHECK(pthread_join(t, &ret) == 0);
    release_child(go);
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
    alarm(100); /* a wait that stopped the hub ends here, not at the test's timeout */

    ticker_start();
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
    ticker_finish();
    unlink(path);
    return 0;
}
