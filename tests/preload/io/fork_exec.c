/* fork and exec from a program with a second thread running: the child's output comes back
 * through a pipe, a child that does not exec sleeps, writes and exits with its own status, and
 * system() works. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common.h"

static volatile int stop;

static void* ticker(void* arg) {
    (void)arg;
    while (!stop) usleep(5 * 1000);
    return NULL;
}

static int exit_status(pid_t pid) {
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void read_all(int fd, char* out, size_t cap) {
    size_t used = 0;
    ssize_t n;
    while (used + 1 < cap && (n = read(fd, out + used, cap - 1 - used)) > 0) used += (size_t)n;
    out[used] = 0;
}

int main(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, ticker, NULL) == 0);
    fflush(stdout);

    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execlp("echo", "echo", "hello from an exec'd child", (char*)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[256];
    read_all(p[0], buf, sizeof buf);
    close(p[0]);
    printf("child said: %s", buf);
    printf("exec'd child exited with %d\n", exit_status(pid));

    CHECK(pipe(p) == 0);
    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        usleep(20 * 1000);
        CHECK(write(p[1], "forked child slept\n", 19) == 19);
        _exit(3);
    }
    close(p[1]);
    read_all(p[0], buf, sizeof buf);
    close(p[0]);
    printf("%s", buf);
    printf("forked child exited with %d\n", exit_status(pid));

    fflush(stdout);
    int rc = system("echo from system");
    printf("system returned %d\n", WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);

    stop = 1;
    CHECK(pthread_join(t, NULL) == 0);
    return 0;
}
