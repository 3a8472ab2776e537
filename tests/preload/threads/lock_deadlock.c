/* A record-lock deadlock between two processes: the parent holds byte 0 and waits for byte 1,
 * which its child holds; the child then asks for byte 0 and, as it closes the cycle, gets
 * EDEADLK from the kernel; it exits, and the parent's wait ends with the lock. With fcntl
 * F_SETLKW and with lockf F_LOCK, natively and under the shim: the same errno in the same
 * process (a waiter that polls is invisible to the kernel's deadlock detection: both would wait
 * forever), while a ticker thread keeps running in the waiting parent. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>

#include "../gate.h"

static char path[64];
static struct gate child_exit; /* the child exits once the parent's ticker moved on */

static void* open_after_ticks(void* arg) {
    (void)arg;
    gate_open_after_ticks(&child_exit, NULL, 0);
    return NULL;
}
static const char* call_name[] = {"fcntl(F_SETLKW)", "lockf(F_LOCK)"};

/* Waits (blocking) for one byte at `at` with the call `c`. */
static int lock_byte(int c, int fd, off_t at) {
    if (c == 0) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1};
        return fcntl(fd, F_SETLKW, &fl);
    }
    CHECK(lseek(fd, at, SEEK_SET) == at);
    return lockf(fd, F_LOCK, 1);
}

static void take_now(int fd, off_t at) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1};
    CHECK(fcntl(fd, F_SETLK, &fl) == 0);
}

/* Whether /proc/locks shows process `pid` waiting for a lock ("->" lines are the waiters). */
static int waits_in_kernel(pid_t pid) {
    FILE* f = fopen("/proc/locks", "r");
    CHECK(f != NULL);
    char line[256], want[32];
    snprintf(want, sizeof want, " %d ", (int)pid);
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "->") && strstr(line, want)) found = 1;
    fclose(f);
    return found;
}

static void deadlock(int c) {
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    take_now(fd, 0);
    int ready[2];
    CHECK(pipe(ready) == 0);
    const pid_t parent = getpid();
    gate_make(&child_exit);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(20); /* a deadlock nobody detects ends here, not at the test's timeout */
        close(ready[0]);
        int cfd = open(path, O_RDWR);
        CHECK(cfd >= 0);
        take_now(cfd, 1);
        CHECK(write(ready[1], "x", 1) == 1);
        for (int i = 0; i < 2000 && !waits_in_kernel(parent); ++i) usleep(5 * 1000);
        int rc = lock_byte(c, cfd, 0);
        int e = errno;
        printf("child: %s on the parent's byte: %d %s\n", call_name[c], rc,
               rc < 0 ? strerror(e) : "");
        fflush(stdout);
        /* Until the parent's ticker moved 3 ticks with the parent waiting for this child's byte;
         * 99 if it never did (under the shim: a wait that held the hub). */
        _exit(gate_wait_in_forked_child(&child_exit) ? 0 : 99);
    }
    close(ready[1]);
    char x;
    CHECK(read(ready[0], &x, 1) == 1);
    close(ready[0]);
    ticker_start();
    const long t0 = ticks_now();
    pthread_t opener;
    CHECK(pthread_create(&opener, NULL, open_after_ticks, NULL) == 0);
    int rc = lock_byte(c, fd, 1);
    int e = errno;
    long seen = ticks_now() - t0;
    CHECK(pthread_join(opener, NULL) == 0);
    ticker_finish();
    gate_remove(&child_exit);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    printf("parent: %s on the child's byte: %d %s\n", call_name[c], rc, rc < 0 ? strerror(e) : "");
    printf("child exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
    fprintf(stderr, "info: %ld ticks while the parent waited\n", seen);
    /* The child, and so the wait, ended only after the ticker moved 3 ticks; a hub held by the
     * wait would not run the ticker at all (0 ticks, and the child gives up: exit 99). */
    printf("ticker ran while the parent waited: %s\n", seen >= 1 ? "yes" : "no");
    close(fd);
}

int main(void) {
    snprintf(path, sizeof path, "/tmp/green_lock_deadlock_%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "01", 2) == 2);
    close(fd);
    setvbuf(stdout, NULL, _IOLBF, 0);
    deadlock(0);
    deadlock(1);
    unlink(path);
    report_os_threads();
    return 0;
}
