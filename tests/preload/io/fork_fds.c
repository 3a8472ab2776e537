/* A child forked while a hub is active (a thread ran, and is still blocked) opens descriptors
 * of several kinds, reusing whatever low numbers are free, and closes each: every close must
 * succeed, as natively, whatever numbers the parent's hub held. Then the child closes every
 * descriptor from 3 up and does the same again. The parent had a signal handler installed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common.h"

static int block[2];

static void on_usr1(int sig) {
    (void)sig;
}

static void* reader(void* arg) {
    (void)arg;
    char c;
    (void)!read(block[0], &c, 1); /* blocked in the parent's hub when the process forks */
    return NULL;
}

/* Opens 60 descriptors of four kinds, then closes them all; the number of failed closes. */
static int open_and_close(void) {
    int fds[60], n = 0, failed = 0;
    while (n < 60) {
        int p[2];
        switch (n / 2 % 4) {
            case 0:
                CHECK(pipe(p) == 0);
                break;
            case 1:
                CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0);
                break;
            case 2:
                p[0] = open("/dev/null", O_RDONLY);
                p[1] = eventfd(0, 0);
                break;
            default:
                p[0] = socket(AF_INET, SOCK_STREAM, 0);
                p[1] = dup(p[0]);
                break;
        }
        CHECK(p[0] >= 0 && p[1] >= 0);
        fds[n++] = p[0];
        fds[n++] = p[1];
    }
    for (int i = 0; i < n; ++i)
        if (close(fds[i]) != 0) ++failed;
    return failed;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* A handler: the hub's signal machinery is set up too when the reader blocks. */
    install(SIGUSR1, on_usr1, 0);
    CHECK(pipe(block) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
    usleep(20 * 1000);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        printf("child: failed closes: %d\n", open_and_close());
        for (int fd = 3; fd < 1024; ++fd) close(fd);
        printf("child after closing all: failed closes: %d\n", open_and_close());
        /* Every number from 3 up is free now, as natively. */
        int fd = open("/dev/null", O_RDONLY);
        printf("child: next descriptor is %d\n", fd);
        fflush(stdout);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    CHECK(write(block[1], "x", 1) == 1);
    CHECK(pthread_join(t, NULL) == 0);
    printf("parent: failed closes: %d\n", open_and_close());
    return 0;
}
